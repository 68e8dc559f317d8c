// Pagemap entries for the census unit tests, built from the named kernel bits of
// core/pagemap.hpp (Documentation/admin-guide/mm/pagemap.rst), never from raw numbers.
#pragma once

#include <cstdint>

#include "core/pagemap.hpp"

namespace cowtrace::testing {

constexpr uint64_t bit(int n) {
    return 1ull << n;
}

// No page at this address (never touched, unmapped, or the address space is gone).
inline constexpr uint64_t kNotMapped = 0;

// Exact mode (root sees frame numbers). A private anonymous page on frame pfn, mapped by more
// than one process (right after fork) or by this one alone (after a copy).
constexpr uint64_t anon_shared_at(uint64_t pfn) {
    return bit(pagemap::kPresentBit) | pfn;
}
constexpr uint64_t anon_alone_at(uint64_t pfn) {
    return bit(pagemap::kPresentBit) | bit(pagemap::kExclusiveBit) | pfn;
}
// A page-cache page of a private file mapping (never copied by fork as anonymous memory).
constexpr uint64_t file_page_at(uint64_t pfn) {
    return bit(pagemap::kPresentBit) | bit(pagemap::kFileOrSharedAnonBit) | pfn;
}

// Unprivileged mode: the kernel zeroes the frame number, only the bits are left.
inline constexpr uint64_t kAnonShared = anon_shared_at(0);
inline constexpr uint64_t kAnonAlone = anon_alone_at(0);
inline constexpr uint64_t kFilePage = file_page_at(0);

// Frame numbers with a role. Any distinct values would do; names say which frame is which.
inline constexpr uint64_t kForkFrame = 0x10000;        // the frame both sides map after fork
inline constexpr uint64_t kChildCopyFrame = 0x20000;   // the child's copy
inline constexpr uint64_t kParentCopyFrame = 0x30000;  // the parent's copy
inline constexpr uint64_t kChildOwnFrame = 0x40000;    // a page the child allocated itself
inline constexpr uint64_t kZeroFrame = 0x777;          // the kernel's zero page

}  // namespace cowtrace::testing

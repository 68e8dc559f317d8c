// /proc/<pid>/pagemap, one 64-bit entry per virtual page. Every kernel bit is named here once,
// with its documentation: Documentation/admin-guide/mm/pagemap.rst.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cowtrace::pagemap {

inline constexpr uint64_t kPfnMask = (1ull << 55) - 1;  // bits 0-54: PFN (0 without CAP_SYS_ADMIN)
inline constexpr int kSoftDirtyBit = 55;                // not built into every kernel: unused
inline constexpr int kExclusiveBit = 56;                // "page exclusively mapped" (since 4.2)
inline constexpr int kUffdWpBit = 57;
inline constexpr int kGuardBit = 58;             // MADV_GUARD_INSTALL (6.15+)
inline constexpr int kFileOrSharedAnonBit = 61;  // page cache or shmem: never COW'd anon
inline constexpr int kSwappedBit = 62;
inline constexpr int kPresentBit = 63;

inline bool present(uint64_t e) {
    return (e >> kPresentBit) & 1;
}
inline bool swapped(uint64_t e) {
    return (e >> kSwappedBit) & 1;
}
inline bool exclusive(uint64_t e) {
    return (e >> kExclusiveBit) & 1;
}
inline bool file_or_shared(uint64_t e) {
    return (e >> kFileOrSharedAnonBit) & 1;
}
// A private anonymous page in memory: the only kind fork shares copy-on-write.
inline bool anon_present(uint64_t e) {
    return present(e) && !file_or_shared(e);
}
inline uint64_t pfn(uint64_t e) {
    return present(e) ? e & kPfnMask : 0;
}

// PAGEMAP_SCAN (Linux 6.7+; include/uapi/linux/fs.h): runs of pages by category, skipping holes
// and huge pages cheaply. Defined here because Debian 12's headers predate it.
inline constexpr uint64_t kPageIsFile = 1u << 2;
inline constexpr uint64_t kPageIsPresent = 1u << 3;
inline constexpr uint64_t kPageIsSwapped = 1u << 4;
inline constexpr uint64_t kPageIsPfnZero = 1u << 5;
inline constexpr uint64_t kPageIsHuge = 1u << 6;  // PMD-mapped THP or hugetlb

struct PageRun {
    uint64_t start;  // virtual address, page aligned
    uint64_t end;    // exclusive
    uint64_t categories;
};

// Reads one process's pagemap. The descriptor is kept open: it stays bound to the process's
// address space (reads return nothing once the process exits or execs — which is how the census
// learns an episode is over) and is immune to pid reuse.
class PagemapReader {
public:
    PagemapReader() = default;
    ~PagemapReader();
    PagemapReader(PagemapReader&&) noexcept;
    PagemapReader& operator=(PagemapReader&&) noexcept;
    PagemapReader(const PagemapReader&) = delete;
    PagemapReader& operator=(const PagemapReader&) = delete;

    bool open(pid_t pid, std::string& error);
    bool is_open() const { return fd_ >= 0; }
    // Whether the address space this reader was opened on still exists. After the process
    // execs, its pid has a new address space that only a newly opened reader sees.
    bool address_space_alive() const;

    // Entries for [start, end) into out (resized to the page count). False when the address
    // space is gone (exit/exec) or the read failed.
    bool read(uint64_t start, uint64_t end, std::vector<uint64_t>& out);
    // The same into out[0 .. (end - start) / 4096), which the caller sized.
    bool read(uint64_t start, uint64_t end, uint64_t* out);
    // The entry of one page (a sampled census reads single pages). False when gone.
    bool read_one(uint64_t address, uint64_t& entry);

    // Runs of present or swapped pages in [start, end) via PAGEMAP_SCAN. False when the kernel
    // lacks the ioctl (then callers read everything).
    bool populated_runs(uint64_t start, uint64_t end, std::vector<PageRun>& out);
    // Runs of present private anonymous pages other than the zero page in [start, end), in one
    // PAGEMAP_SCAN that filters by category (one ioctl however many holes lie between them).
    // False when the kernel lacks the ioctl.
    bool private_anon_runs(uint64_t start, uint64_t end, std::vector<PageRun>& out);

    static bool scan_supported();

private:
    // PAGEMAP_SCAN of [start, end) for pages whose categories, with inverted flipped, include
    // all of required (and one of any_of, unless 0); each run's categories masked by returned.
    bool scan(uint64_t start, uint64_t end, uint64_t inverted, uint64_t required, uint64_t any_of,
              uint64_t returned, std::vector<PageRun>& out);

    int fd_ = -1;
};

// Whether this process can see page frame numbers (CAP_SYS_ADMIN in the initial namespace):
// the exact census needs them.
bool pfns_visible();

}  // namespace cowtrace::pagemap

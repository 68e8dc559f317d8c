// /proc/kpageflags: one u64 of flags per page frame (root only). Used to recognise KSM-merged
// frames, whose sharing has nothing to do with fork. Bits:
// Documentation/admin-guide/mm/pagemap.rst.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cowtrace::kpageflags {

inline constexpr int kKsmBit = 21;
inline constexpr int kThpBit = 22;
inline constexpr int kZeroPageBit = 24;

// How many of the given frames (duplicates counted) have flag bit set; reads the frames in
// sorted, coalesced runs. False if /proc/kpageflags cannot be read.
bool count_with_flag(std::vector<uint64_t> pfns, int bit, uint64_t& count);

// Reads the flags of frames [first, first + n) into flags; false if it could not.
using FlagsReader = std::function<bool(uint64_t first, uint64_t n, uint64_t* flags)>;
// count_with_flag's counting, the reads left to read_flags: one read per run of consecutive
// frames (at most 65536 of them); a run that cannot be read counts none of its frames.
uint64_t count_flagged(std::vector<uint64_t> pfns, int bit, const FlagsReader& read_flags);

// ksm_merging_pages from /proc/<pid>/ksm_stat (0 if absent): whether KSM touches pid at all.
uint64_t ksm_merging_pages(pid_t pid);
// The same from the file's text.
uint64_t parse_ksm_merging_pages(const std::string& ksm_stat);

}  // namespace cowtrace::kpageflags

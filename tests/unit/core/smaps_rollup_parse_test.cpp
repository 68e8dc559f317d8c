// parse_smaps_rollup on /proc/<pid>/smaps_rollup text: the six fields the memory samples carry,
// in bytes (the file says kB), whatever else the kernel prints around them (field list:
// Documentation/filesystems/proc.rst; /work/shared/research/kernel-pagemap.md §4).
#include <gtest/gtest.h>

#include <string>

#include "core/smaps_rollup.hpp"

namespace cowtrace {
namespace {

constexpr uint64_t kKiB = 1024;

// Linux 6.18, a process with a THP-backed heap, a hugetlb mapping and some swap. Every value
// differs so a field read from the wrong line shows.
const std::string kRollup =
    "55e157202000-7fff651a1000 ---p 00000000 00:00 0                          [rollup]\n"
    "Rss:             2101700 kB\n"
    "Pss:             1050218 kB\n"
    "Pss_Dirty:       1049716 kB\n"
    "Pss_Anon:        1049616 kB\n"
    "Pss_File:            102 kB\n"
    "Pss_Shmem:            12 kB\n"
    "Shared_Clean:       1544 kB\n"
    "Shared_Dirty:    2097160 kB\n"
    "Private_Clean:        40 kB\n"
    "Private_Dirty:      2956 kB\n"
    "Referenced:      2101700 kB\n"
    "Anonymous:       2100116 kB\n"
    "KSM:                1024 kB\n"
    "LazyFree:              4 kB\n"
    "AnonHugePages:   2097152 kB\n"
    "ShmemPmdMapped:     2048 kB\n"
    "FilePmdMapped:      4096 kB\n"
    "Shared_Hugetlb:    16384 kB\n"
    "Private_Hugetlb:   32768 kB\n"
    "Swap:                 64 kB\n"
    "SwapPss:              32 kB\n"
    "Locked:                8 kB\n";

TEST(ParseSmapsRollup, RealRollupGivesEachFieldInBytes) {
    MemoryRollup m;
    ASSERT_TRUE(parse_smaps_rollup(kRollup, m));
    EXPECT_EQ(m.rss_bytes, 2101700 * kKiB);
    EXPECT_EQ(m.pss_bytes, 1050218 * kKiB);
    EXPECT_EQ(m.private_dirty_bytes, 2956 * kKiB);
    EXPECT_EQ(m.shared_dirty_bytes, 2097160 * kKiB);
    EXPECT_EQ(m.anonymous_bytes, 2100116 * kKiB);
    EXPECT_EQ(m.swap_bytes, 64 * kKiB);
}

TEST(ParseSmapsRollup, FieldsWhoseNamesExtendAKnownOneAreNotTakenForIt) {
    // Pss_Dirty, Pss_Anon… follow Pss, SwapPss follows Swap: read as Pss or Swap they would win.
    MemoryRollup m;
    ASSERT_TRUE(parse_smaps_rollup(kRollup, m));
    EXPECT_EQ(m.pss_bytes, 1050218 * kKiB);
    EXPECT_EQ(m.swap_bytes, 64 * kKiB);
}

TEST(ParseSmapsRollup, HugePageLinesAreNotTakenForOtherFields) {
    MemoryRollup m;
    ASSERT_TRUE(
        parse_smaps_rollup("Rss:                  16 kB\n"
                           "Private_Dirty:         8 kB\n"
                           "Anonymous:             4 kB\n"
                           "AnonHugePages:   2097152 kB\n"
                           "ShmemPmdMapped:     2048 kB\n"
                           "FilePmdMapped:      4096 kB\n"
                           "Shared_Hugetlb:    16384 kB\n"
                           "Private_Hugetlb:   32768 kB\n",
                           m));
    EXPECT_EQ(m.rss_bytes, 16 * kKiB);
    EXPECT_EQ(m.private_dirty_bytes, 8 * kKiB);
    EXPECT_EQ(m.shared_dirty_bytes, 0u);
    EXPECT_EQ(m.anonymous_bytes, 4 * kKiB);
}

TEST(ParseSmapsRollup, MissingFieldsStayZero) {
    // An older kernel, or a process with nothing swapped and no private dirty pages listed.
    MemoryRollup m;
    ASSERT_TRUE(
        parse_smaps_rollup("00400000-7fff00000000 ---p 00000000 00:00 0 [rollup]\n"
                           "Rss:                1700 kB\n"
                           "Pss:                 218 kB\n",
                           m));
    EXPECT_EQ(m.rss_bytes, 1700 * kKiB);
    EXPECT_EQ(m.pss_bytes, 218 * kKiB);
    EXPECT_EQ(m.private_dirty_bytes, 0u);
    EXPECT_EQ(m.shared_dirty_bytes, 0u);
    EXPECT_EQ(m.anonymous_bytes, 0u);
    EXPECT_EQ(m.swap_bytes, 0u);
}

TEST(ParseSmapsRollup, TextWithoutAnyKnownFieldIsRefused) {
    MemoryRollup m;
    EXPECT_FALSE(parse_smaps_rollup("", m));
    EXPECT_FALSE(parse_smaps_rollup("00400000-7fff00000000 ---p 00000000 00:00 0 [rollup]\n", m));
    EXPECT_FALSE(
        parse_smaps_rollup("\x7f"
                           "ELF\x02\x01\x01 not a rollup at all\n\n\n",
                           m));
    EXPECT_FALSE(parse_smaps_rollup("Rss: lots\nPss:\n", m));
}

TEST(ParseSmapsRollup, GarbageLinesAreSkippedAndTheRestIsRead) {
    MemoryRollup m;
    ASSERT_TRUE(
        parse_smaps_rollup("Rss: many kB\n"
                           "\x01\x02\x03 binary noise\n"
                           ":::\n"
                           "Pss:                 218 kB\n"
                           "Anonymous:\n"
                           "Swap:                  64 kB\n",
                           m));
    EXPECT_EQ(m.rss_bytes, 0u);
    EXPECT_EQ(m.pss_bytes, 218 * kKiB);
    EXPECT_EQ(m.anonymous_bytes, 0u);
    EXPECT_EQ(m.swap_bytes, 64 * kKiB);
}

TEST(ParseSmapsRollup, FieldNameMustStartItsLine) {
    MemoryRollup m;
    ASSERT_TRUE(
        parse_smaps_rollup("Pss: 1 kB\n"
                           "  Rss: 5 kB\n"
                           "XSwap: 7 kB\n",
                           m));
    EXPECT_EQ(m.rss_bytes, 0u);
    EXPECT_EQ(m.swap_bytes, 0u);
}

TEST(ParseSmapsRollup, LastLineWithoutNewlineIsRead) {
    MemoryRollup m;
    ASSERT_TRUE(parse_smaps_rollup("Rss: 1 kB\nSwap:                  64 kB", m));
    EXPECT_EQ(m.swap_bytes, 64 * kKiB);
}

TEST(ParseSmapsRollup, LargestAddressSpaceIsExact) {
    // 2^57 bytes, all of 5-level paging's address space: 2^47 kB.
    MemoryRollup m;
    ASSERT_TRUE(parse_smaps_rollup("Rss:    140737488355328 kB\n", m));
    EXPECT_EQ(m.rss_bytes, uint64_t{1} << 57);
}

TEST(ParseSmapsRollup, ValueBeyondSixtyFourBitsOfBytesIsRefused) {
    // 2^54 + 1 kB is 2^64 + 1024 bytes: wrapped, it would read as 1 kB.
    MemoryRollup m;
    ASSERT_TRUE(
        parse_smaps_rollup("Rss: 18014398509481985 kB\n"
                           "Pss: 99999999999999999999999 kB\n"
                           "Swap: 8 kB\n",
                           m));
    EXPECT_EQ(m.rss_bytes, 0u);
    EXPECT_EQ(m.pss_bytes, 0u);
    EXPECT_EQ(m.swap_bytes, 8 * kKiB);
}

TEST(ParseSmapsRollup, LargestValueThatFitsSixtyFourBitsOfBytesIsExact) {
    MemoryRollup m;
    ASSERT_TRUE(parse_smaps_rollup("Rss: 18014398509481983 kB\n", m));
    EXPECT_EQ(m.rss_bytes, UINT64_MAX - 1023);
}

TEST(ParseSmapsRollup, NegativeValueIsRefused) {
    MemoryRollup m;
    ASSERT_TRUE(parse_smaps_rollup("Rss: -4 kB\nSwap: 8 kB\n", m));
    EXPECT_EQ(m.rss_bytes, 0u);
}

TEST(ParseSmapsRollup, EmptyValueTakesNothingFromTheNextLine) {
    MemoryRollup m;
    ASSERT_TRUE(parse_smaps_rollup("Swap: 8 kB\nRss:\n4096 kB\n", m));
    EXPECT_EQ(m.rss_bytes, 0u);
}

}  // namespace
}  // namespace cowtrace

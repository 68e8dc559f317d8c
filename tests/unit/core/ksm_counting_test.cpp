// KSM frames at fork, counted without root: count_flagged is count_with_flag's counting with the
// /proc/kpageflags reads handed to the test, and parse_ksm_merging_pages reads ksm_stat's text.
// Kernel facts (/work/shared/research/kernel-pagemap.md §3, §6): a KSM page is one frame mapped
// at many addresses (256 identical pages, kpagecount 256), flagged KPF_KSM.
#include <gtest/gtest.h>

#include <map>
#include <utility>
#include <vector>

#include "core/kpageflags.hpp"
#include "pagemap_entries.hpp"

namespace cowtrace {
namespace {

using testing::bit;

constexpr uint64_t kKsm = bit(kpageflags::kKsmBit);
constexpr uint64_t kThp = bit(kpageflags::kThpBit);
constexpr uint64_t kZeroPage = bit(kpageflags::kZeroPageBit);

constexpr uint64_t kKsmFrame = 0x5000;
constexpr uint64_t kOtherKsmFrame = 0x5001;
constexpr uint64_t kPlainFrame = 0x5002;
constexpr uint64_t kHugeFrame = 0x9000;
constexpr uint64_t kZeroFrame = 0x777;

// /proc/kpageflags as a table (frames not listed have no flags), and the reads made of it.
struct FakeKpageflags {
    std::map<uint64_t, uint64_t> flags_of;
    std::vector<std::pair<uint64_t, uint64_t>> reads;  // (first frame, frame count)
    std::vector<uint64_t> unreadable;                  // a read including one of these fails

    kpageflags::FlagsReader reader() {
        return [this](uint64_t first, uint64_t n, uint64_t* flags) {
            reads.emplace_back(first, n);
            for (uint64_t k = 0; k < n; ++k) {
                for (uint64_t bad : unreadable) {
                    if (first + k == bad) return false;
                }
                auto it = flags_of.find(first + k);
                flags[k] = it == flags_of.end() ? 0 : it->second;
            }
            return true;
        };
    }
};

FakeKpageflags machine() {
    FakeKpageflags f;
    f.flags_of = {
        {kKsmFrame, kKsm}, {kOtherKsmFrame, kKsm}, {kHugeFrame, kThp}, {kZeroFrame, kZeroPage}};
    return f;
}

TEST(KsmFrameCount, FramesFlaggedKsmAreCounted) {
    FakeKpageflags f = machine();
    std::vector<uint64_t> frames = {kKsmFrame, kPlainFrame, kOtherKsmFrame};
    EXPECT_EQ(kpageflags::count_flagged(frames, kpageflags::kKsmBit, f.reader()), 2u);
}

TEST(KsmFrameCount, KsmFrameMappedAtManyAddressesCountsEachPage) {
    // 256 identical pages merged into one frame: 256 pages of the baseline are KSM pages.
    FakeKpageflags f = machine();
    std::vector<uint64_t> frames(256, kKsmFrame);
    frames.push_back(kPlainFrame);
    EXPECT_EQ(kpageflags::count_flagged(frames, kpageflags::kKsmBit, f.reader()), 256u);
}

TEST(KsmFrameCount, HugeAndZeroPagesAreNotKsm) {
    FakeKpageflags f = machine();
    std::vector<uint64_t> frames = {kHugeFrame, kZeroFrame, kPlainFrame};
    EXPECT_EQ(kpageflags::count_flagged(frames, kpageflags::kKsmBit, f.reader()), 0u);
    EXPECT_EQ(kpageflags::count_flagged(frames, kpageflags::kThpBit, f.reader()), 1u);
}

TEST(KsmFrameCount, NoFramesNoReads) {
    FakeKpageflags f = machine();
    EXPECT_EQ(kpageflags::count_flagged({}, kpageflags::kKsmBit, f.reader()), 0u);
    EXPECT_TRUE(f.reads.empty());
}

TEST(KsmFrameCount, FramesAreReadInSortedRunsOfConsecutiveFrames) {
    FakeKpageflags f = machine();
    std::vector<uint64_t> frames = {kHugeFrame, kOtherKsmFrame, kKsmFrame, kOtherKsmFrame,
                                    kPlainFrame};
    EXPECT_EQ(kpageflags::count_flagged(frames, kpageflags::kKsmBit, f.reader()), 3u);
    std::vector<std::pair<uint64_t, uint64_t>> expected = {{kKsmFrame, 3}, {kHugeFrame, 1}};
    EXPECT_EQ(f.reads, expected);
}

TEST(KsmFrameCount, LongRunIsReadInPiecesOfAtMost65536Frames) {
    FakeKpageflags f;
    std::vector<uint64_t> frames;
    for (uint64_t pfn = 0x100000; pfn < 0x100000 + 70000; ++pfn) {
        frames.push_back(pfn);
        f.flags_of[pfn] = kKsm;
    }
    EXPECT_EQ(kpageflags::count_flagged(frames, kpageflags::kKsmBit, f.reader()), 70000u);
    std::vector<std::pair<uint64_t, uint64_t>> expected = {{0x100000, 65536},
                                                           {0x100000 + 65536, 70000 - 65536}};
    EXPECT_EQ(f.reads, expected);
}

TEST(KsmFrameCount, RunThatCannotBeReadCountsNothingAndTheRestStillCounts) {
    FakeKpageflags f = machine();
    f.flags_of[kHugeFrame] = kKsm;
    f.unreadable = {kOtherKsmFrame};
    std::vector<uint64_t> frames = {kKsmFrame, kOtherKsmFrame, kHugeFrame};
    EXPECT_EQ(kpageflags::count_flagged(frames, kpageflags::kKsmBit, f.reader()), 1u);
}

TEST(KsmMergingPages, CountIsReadFromKsmStat) {
    const std::string ksm_stat =
        "ksm_rmap_items 256\n"
        "ksm_zero_pages 0\n"
        "ksm_merging_pages 255\n"
        "ksm_process_profit 1040384\n"
        "ksm_merge_any: no\n"
        "ksm_mergeable: yes\n";
    EXPECT_EQ(kpageflags::parse_ksm_merging_pages(ksm_stat), 255u);
}

TEST(KsmMergingPages, ProcessKsmLeavesAloneHasNone) {
    EXPECT_EQ(kpageflags::parse_ksm_merging_pages("ksm_rmap_items 0\n"
                                                  "ksm_zero_pages 0\n"
                                                  "ksm_merging_pages 0\n"
                                                  "ksm_process_profit 0\n"
                                                  "ksm_merge_any: no\n"
                                                  "ksm_mergeable: no\n"),
              0u);
}

TEST(KsmMergingPages, KernelWithoutTheFieldMeansNone) {
    EXPECT_EQ(kpageflags::parse_ksm_merging_pages("ksm_rmap_items 12\n"), 0u);
    EXPECT_EQ(kpageflags::parse_ksm_merging_pages(""), 0u);
}

}  // namespace
}  // namespace cowtrace

// count_thp_pages: the exact mode tells a transparent huge page from its frames — a PMD-mapped
// entry reports frame = head + index (/work/shared/research/kernel-pagemap.md §6), and a THP's
// head frame is 512-aligned and mapped at a 2 MiB-aligned address.
#include <gtest/gtest.h>

#include <vector>

#include "core/cow_census.hpp"
#include "pagemap_entries.hpp"

namespace cowtrace {
namespace {

using namespace testing;  // pagemap_entries.hpp

constexpr uint64_t kPage = 4096;
constexpr uint64_t kSubpages = 512;
constexpr uint64_t kHugePage = kSubpages * kPage;         // 2 MiB
constexpr uint64_t kAligned = 0x7f0000000000;             // a 2 MiB-aligned address
constexpr uint64_t kHeadFrame = 0x1000 * kSubpages;       // a 512-aligned frame
constexpr uint64_t kOtherHeadFrame = 0x2000 * kSubpages;  // another one, far away

// The entries of one huge page whose subpages are on frames head, head + 1, ...
std::vector<uint64_t> huge_page_on(uint64_t head) {
    std::vector<uint64_t> entries;
    for (uint64_t k = 0; k < kSubpages; ++k) entries.push_back(anon_shared_at(head + k));
    return entries;
}

std::vector<uint64_t> operator+(std::vector<uint64_t> a, const std::vector<uint64_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

TEST(CountThpPages, HugePageAtAnAlignedAddressCountsAllItsSubpages) {
    EXPECT_EQ(count_thp_pages(kAligned, huge_page_on(kHeadFrame)), kSubpages);
}

TEST(CountThpPages, TwoHugePagesInARowCountBoth) {
    auto entries = huge_page_on(kHeadFrame) + huge_page_on(kOtherHeadFrame);
    EXPECT_EQ(count_thp_pages(kAligned, entries), 2 * kSubpages);
}

TEST(CountThpPages, HugePageAfterSmallPagesIsFoundAtItsBoundary) {
    std::vector<uint64_t> small = {anon_shared_at(kChildOwnFrame), anon_shared_at(kForkFrame),
                                   kNotMapped};
    auto entries = small + huge_page_on(kHeadFrame) + small;
    EXPECT_EQ(count_thp_pages(kAligned - small.size() * kPage, entries), kSubpages);
}

TEST(CountThpPages, AddressOffTheTwoMegabyteBoundaryIsNoHugePage) {
    EXPECT_EQ(count_thp_pages(kAligned + kPage, huge_page_on(kHeadFrame)), 0u);
    EXPECT_EQ(count_thp_pages(kAligned + kHugePage / 2, huge_page_on(kHeadFrame)), 0u);
}

TEST(CountThpPages, FramesNotStartingOnA512BoundaryAreNoHugePage) {
    EXPECT_EQ(count_thp_pages(kAligned, huge_page_on(kHeadFrame + 1)), 0u);
}

TEST(CountThpPages, OneSubpageOnAnotherFrameBreaksTheHugePage) {
    auto entries = huge_page_on(kHeadFrame);
    entries[100] = anon_alone_at(kChildCopyFrame);
    EXPECT_EQ(count_thp_pages(kAligned, entries), 0u);
}

TEST(CountThpPages, MissingLastSubpageBreaksTheHugePage) {
    auto entries = huge_page_on(kHeadFrame);
    entries.back() = kNotMapped;
    EXPECT_EQ(count_thp_pages(kAligned, entries), 0u);
}

TEST(CountThpPages, RangeEndingInsideTheHugePageCountsNone) {
    auto entries = huge_page_on(kHeadFrame);
    entries.pop_back();
    EXPECT_EQ(count_thp_pages(kAligned, entries), 0u);
}

TEST(CountThpPages, WithoutFrameNumbersNothingIsHuge) {
    // Unprivileged entries carry frame 0.
    std::vector<uint64_t> entries(kSubpages, kAnonShared);
    EXPECT_EQ(count_thp_pages(kAligned, entries), 0u);
}

}  // namespace
}  // namespace cowtrace

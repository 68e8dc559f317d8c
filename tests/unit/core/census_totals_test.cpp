// CensusTotals::add: each page's fate lands in the episode's totals and in its region's, and every
// copy counts once in copied_pages whoever made it.
#include <gtest/gtest.h>

#include "core/cow_census.hpp"

namespace cowtrace {
namespace {

constexpr size_t kHeap = 0;
constexpr size_t kStack = 1;

CensusTotals with_heap_and_stack() {
    CensusTotals totals;
    totals.regions.resize(2);
    totals.regions[kHeap].name = "[heap]";
    totals.regions[kStack].name = "[stack]";
    return totals;
}

TEST(CensusTotalsAdd, SharedPageCountsAsSharedOnly) {
    CensusTotals totals = with_heap_and_stack();
    totals.add(PageFate::kShared, kHeap);
    EXPECT_EQ(totals.shared_pages, 1u);
    EXPECT_EQ(totals.copied_pages, 0u);
    EXPECT_EQ(totals.regions[kHeap].copied_pages, 0u);
}

TEST(CensusTotalsAdd, ParentCopyCountsAsACopyByTheParentInTotalsAndItsRegion) {
    CensusTotals totals = with_heap_and_stack();
    totals.add(PageFate::kCopiedByParent, kHeap);
    EXPECT_EQ(totals.copied_pages, 1u);
    EXPECT_EQ(totals.copied_by_parent_pages, 1u);
    EXPECT_EQ(totals.copied_by_child_pages, 0u);
    EXPECT_EQ(totals.regions[kHeap].copied_pages, 1u);
    EXPECT_EQ(totals.regions[kHeap].copied_by_parent_pages, 1u);
    EXPECT_EQ(totals.regions[kHeap].copied_by_child_pages, 0u);
    EXPECT_EQ(totals.regions[kStack].copied_pages, 0u);
}

TEST(CensusTotalsAdd, ChildCopyCountsAsACopyByTheChildInTotalsAndItsRegion) {
    CensusTotals totals = with_heap_and_stack();
    totals.add(PageFate::kCopiedByChild, kStack);
    EXPECT_EQ(totals.copied_pages, 1u);
    EXPECT_EQ(totals.copied_by_child_pages, 1u);
    EXPECT_EQ(totals.copied_by_parent_pages, 0u);
    EXPECT_EQ(totals.regions[kStack].copied_pages, 1u);
    EXPECT_EQ(totals.regions[kStack].copied_by_child_pages, 1u);
    EXPECT_EQ(totals.regions[kStack].copied_by_parent_pages, 0u);
    EXPECT_EQ(totals.regions[kHeap].copied_pages, 0u);
}

TEST(CensusTotalsAdd, CopyBySideUnknownCountsAsACopyOfNeitherSide) {
    CensusTotals totals = with_heap_and_stack();
    totals.add(PageFate::kCopied, kHeap);
    EXPECT_EQ(totals.copied_pages, 1u);
    EXPECT_EQ(totals.copied_by_parent_pages, 0u);
    EXPECT_EQ(totals.copied_by_child_pages, 0u);
    EXPECT_EQ(totals.regions[kHeap].copied_pages, 1u);
    EXPECT_EQ(totals.regions[kHeap].copied_by_parent_pages, 0u);
    EXPECT_EQ(totals.regions[kHeap].copied_by_child_pages, 0u);
}

TEST(CensusTotalsAdd, RetainedAndChildNewPagesAreNoCopies) {
    CensusTotals totals = with_heap_and_stack();
    totals.add(PageFate::kRetained, kHeap);
    totals.add(PageFate::kChildNew, kHeap);
    EXPECT_EQ(totals.retained_pages, 1u);
    EXPECT_EQ(totals.child_new_pages, 1u);
    EXPECT_EQ(totals.copied_pages, 0u);
    EXPECT_EQ(totals.shared_pages, 0u);
    EXPECT_EQ(totals.regions[kHeap].copied_pages, 0u);
}

TEST(CensusTotalsAdd, GoneAndNotSharedPagesCountNothing) {
    CensusTotals totals = with_heap_and_stack();
    totals.add(PageFate::kGone, kHeap);
    totals.add(PageFate::kNotShared, kStack);
    EXPECT_EQ(totals.shared_pages, 0u);
    EXPECT_EQ(totals.copied_pages, 0u);
    EXPECT_EQ(totals.retained_pages, 0u);
    EXPECT_EQ(totals.child_new_pages, 0u);
    EXPECT_EQ(totals.regions[kHeap].copied_pages, 0u);
    EXPECT_EQ(totals.regions[kStack].copied_pages, 0u);
}

TEST(CensusTotalsAdd, RegionBeyondTheListCountsInTotalsOnly) {
    CensusTotals totals = with_heap_and_stack();
    totals.add(PageFate::kCopiedByChild, 7);
    EXPECT_EQ(totals.copied_pages, 1u);
    EXPECT_EQ(totals.copied_by_child_pages, 1u);
    EXPECT_EQ(totals.regions.size(), 2u);
    EXPECT_EQ(totals.regions[kHeap].copied_pages, 0u);
    EXPECT_EQ(totals.regions[kStack].copied_pages, 0u);
}

TEST(CensusTotalsAdd, CopiesAddUpAcrossSidesAndRegions) {
    CensusTotals totals = with_heap_and_stack();
    for (int i = 0; i < 3; ++i) totals.add(PageFate::kCopiedByParent, kHeap);
    for (int i = 0; i < 2; ++i) totals.add(PageFate::kCopiedByChild, kStack);
    for (int i = 0; i < 4; ++i) totals.add(PageFate::kCopied, kStack);
    totals.add(PageFate::kCopiedByChild, kHeap);
    EXPECT_EQ(totals.copied_pages, 10u);
    EXPECT_EQ(totals.copied_by_parent_pages, 3u);
    EXPECT_EQ(totals.copied_by_child_pages, 3u);
    EXPECT_EQ(totals.regions[kHeap].copied_pages, 4u);
    EXPECT_EQ(totals.regions[kStack].copied_pages, 6u);
    EXPECT_EQ(totals.regions[kHeap].copied_pages + totals.regions[kStack].copied_pages,
              totals.copied_pages);
}

}  // namespace
}  // namespace cowtrace

// classify_exact, the root mode's rule per 4 KiB page (kernel facts:
// /work/shared/research/kernel-pagemap.md §1, §3, §6): same frame on both sides = shared; a write
// gives the writer a new frame and leaves the other side the fork-time one; the zero page is
// nobody's memory; a copy made before the baseline was read is attributed by place.
#include <gtest/gtest.h>

#include "core/cow_census.hpp"
#include "pagemap_entries.hpp"

namespace cowtrace {
namespace {

using namespace testing;  // pagemap_entries.hpp

// One virtual page as the exact census sees it.
struct ExactPage {
    uint64_t child_at_baseline = kNotMapped;      // read while the child waited in fork()
    uint64_t parent_after_baseline = kNotMapped;  // read once the child ran again
    uint64_t child_now = kNotMapped;
    uint64_t parent_now = kNotMapped;
    bool child_likely_wrote = false;  // the page lies in the child's stack, TLS or object data
};

PageFate fate_of(const ExactPage& page, uint64_t zero_pfn = kZeroFrame) {
    return classify_exact(page.child_at_baseline, page.parent_after_baseline, page.child_now,
                          page.parent_now, zero_pfn, page.child_likely_wrote);
}

// A page both sides mapped on the fork-time frame when the baseline was read.
ExactPage shared_at_fork() {
    ExactPage page;
    page.child_at_baseline = anon_shared_at(kForkFrame);
    page.parent_after_baseline = anon_shared_at(kForkFrame);
    return page;
}

TEST(ClassifyExact, SameFrameOnBothSidesIsShared) {
    ExactPage page = shared_at_fork();
    page.child_now = anon_shared_at(kForkFrame);
    page.parent_now = anon_shared_at(kForkFrame);
    EXPECT_EQ(fate_of(page), PageFate::kShared);
}

TEST(ClassifyExact, ChildWriteIsCopyByChild) {
    // The writer gets the new frame; the parent keeps the fork-time one (now mapped once).
    ExactPage page = shared_at_fork();
    page.child_now = anon_alone_at(kChildCopyFrame);
    page.parent_now = anon_alone_at(kForkFrame);
    EXPECT_EQ(fate_of(page), PageFate::kCopiedByChild);
}

TEST(ClassifyExact, ParentWriteIsCopyByParent) {
    ExactPage page = shared_at_fork();
    page.child_now = anon_alone_at(kForkFrame);
    page.parent_now = anon_alone_at(kParentCopyFrame);
    EXPECT_EQ(fate_of(page), PageFate::kCopiedByParent);
}

TEST(ClassifyExact, PageOnlyTheChildStillMapsOnItsForkFrameIsRetained) {
    // The parent freed or unmapped it: the fork-time frame lives on because of the child.
    ExactPage page = shared_at_fork();
    page.child_now = anon_alone_at(kForkFrame);
    page.parent_now = kNotMapped;
    EXPECT_EQ(fate_of(page), PageFate::kRetained);
}

TEST(ClassifyExact, ChildCopyStaysTheChildsAfterTheParentFreedThePage) {
    ExactPage page = shared_at_fork();
    page.child_now = anon_alone_at(kChildCopyFrame);
    page.parent_now = kNotMapped;
    EXPECT_EQ(fate_of(page), PageFate::kCopiedByChild);
}

TEST(ClassifyExact, PageTheChildNoLongerMapsIsGone) {
    ExactPage page = shared_at_fork();
    page.child_now = kNotMapped;
    page.parent_now = anon_shared_at(kForkFrame);
    EXPECT_EQ(fate_of(page), PageFate::kGone);
    page.parent_now = anon_alone_at(kParentCopyFrame);
    EXPECT_EQ(fate_of(page), PageFate::kGone);
}

TEST(ClassifyExact, PageTheChildAllocatedAfterForkIsChildNew) {
    ExactPage page;
    page.child_now = anon_alone_at(kChildOwnFrame);
    EXPECT_EQ(fate_of(page), PageFate::kChildNew);
}

TEST(ClassifyExact, AddressEmptyAtForkAndNowIsNotShared) {
    EXPECT_EQ(fate_of(ExactPage{}), PageFate::kNotShared);
}

TEST(ClassifyExact, PageCachePageIsNotShared) {
    // Fork shares only private anonymous pages copy-on-write; file pages are the page cache's.
    ExactPage page;
    page.child_at_baseline = file_page_at(kForkFrame);
    page.parent_after_baseline = file_page_at(kForkFrame);
    page.child_now = file_page_at(kForkFrame);
    page.parent_now = file_page_at(kForkFrame);
    EXPECT_EQ(fate_of(page), PageFate::kNotShared);
}

TEST(ClassifyExact, ChildsCopyOfAPrivateFilePageIsItsOwnNewPage) {
    // A write to a MAP_PRIVATE file page turns it into an anonymous page: not a copy of memory
    // fork shared, but memory the child now has on its own.
    ExactPage page;
    page.child_at_baseline = file_page_at(kForkFrame);
    page.child_now = anon_alone_at(kChildCopyFrame);
    page.parent_now = file_page_at(kForkFrame);
    EXPECT_EQ(fate_of(page), PageFate::kChildNew);
}

TEST(ClassifyExact, ZeroPageIsNeverShared) {
    // Read-faulted anonymous memory maps the zero page: not memory anyone pays for.
    ExactPage page;
    page.child_at_baseline = anon_shared_at(kZeroFrame);
    page.parent_after_baseline = anon_shared_at(kZeroFrame);
    page.child_now = anon_shared_at(kZeroFrame);
    page.parent_now = anon_shared_at(kZeroFrame);
    EXPECT_EQ(fate_of(page), PageFate::kNotShared);
}

TEST(ClassifyExact, ChildWritingToTheZeroPageGetsANewPageNotACopy) {
    ExactPage page;
    page.child_at_baseline = anon_shared_at(kZeroFrame);
    page.parent_after_baseline = anon_shared_at(kZeroFrame);
    page.child_now = anon_alone_at(kChildOwnFrame);
    page.parent_now = anon_shared_at(kZeroFrame);
    EXPECT_EQ(fate_of(page), PageFate::kChildNew);
}

TEST(ClassifyExact, ParentWritingToTheZeroPageIsNoCopy) {
    ExactPage page;
    page.child_at_baseline = anon_shared_at(kZeroFrame);
    page.parent_after_baseline = anon_shared_at(kZeroFrame);
    page.child_now = anon_shared_at(kZeroFrame);
    page.parent_now = anon_alone_at(kParentCopyFrame);
    EXPECT_EQ(fate_of(page), PageFate::kNotShared);
}

TEST(ClassifyExact, ChildReadingNewMemoryOwnsNoPage) {
    ExactPage page;
    page.child_now = anon_shared_at(kZeroFrame);
    EXPECT_EQ(fate_of(page), PageFate::kNotShared);
}

TEST(ClassifyExact, UnknownZeroFrameSetsNoFrameApart) {
    // learn_zero_pfn() returns 0 when it cannot tell: then frame 0x777 is a frame like any.
    ExactPage page;
    page.child_at_baseline = anon_shared_at(kZeroFrame);
    page.parent_after_baseline = anon_shared_at(kZeroFrame);
    page.child_now = anon_shared_at(kZeroFrame);
    page.parent_now = anon_shared_at(kZeroFrame);
    EXPECT_EQ(fate_of(page, /*zero_pfn=*/0), PageFate::kShared);
}

// Copies made between fork and the baseline: the child's baseline frame already differs from
// the parent's, so the frames cannot say who copied. The place decides.
ExactPage copied_before_baseline() {
    ExactPage page;
    page.child_at_baseline = anon_alone_at(kChildCopyFrame);
    page.parent_after_baseline = anon_alone_at(kForkFrame);
    page.child_now = anon_alone_at(kChildCopyFrame);
    page.parent_now = anon_alone_at(kForkFrame);
    return page;
}

TEST(ClassifyExact, CopyBeforeTheBaselineWhereTheChildWritesIsTheChilds) {
    ExactPage page = copied_before_baseline();
    page.child_likely_wrote = true;
    EXPECT_EQ(fate_of(page), PageFate::kCopiedByChild);
}

TEST(ClassifyExact, CopyBeforeTheBaselineElsewhereIsTheParents) {
    ExactPage page = copied_before_baseline();
    page.child_likely_wrote = false;
    EXPECT_EQ(fate_of(page), PageFate::kCopiedByParent);
}

TEST(ClassifyExact, CopyBeforeTheBaselineByTheParentIsStillJudgedByPlace) {
    // The parent copied first: the child's baseline holds the fork-time frame. Nothing in the
    // frames tells this case from the one above, so the same place rule applies.
    ExactPage page;
    page.child_at_baseline = anon_alone_at(kForkFrame);
    page.parent_after_baseline = anon_alone_at(kParentCopyFrame);
    page.child_now = anon_alone_at(kForkFrame);
    page.parent_now = anon_alone_at(kParentCopyFrame);
    EXPECT_EQ(fate_of(page), PageFate::kCopiedByParent);
    page.child_likely_wrote = true;
    EXPECT_EQ(fate_of(page), PageFate::kCopiedByChild);
}

TEST(ClassifyExact, PlaceIsIgnoredWhenTheBaselineSawOneFrame) {
    // A copy made after the baseline shows which frame moved; where it lies does not matter.
    ExactPage page = shared_at_fork();
    page.child_now = anon_alone_at(kForkFrame);
    page.parent_now = anon_alone_at(kParentCopyFrame);
    page.child_likely_wrote = true;
    EXPECT_EQ(fate_of(page), PageFate::kCopiedByParent);
}

TEST(ClassifyExact, PlaceIsIgnoredWhenTheParentsSideWasNotRead) {
    // add_parent could not read the parent: no sign of an early copy, the frames decide.
    ExactPage page = shared_at_fork();
    page.parent_after_baseline = kNotMapped;
    page.child_now = anon_alone_at(kForkFrame);
    page.parent_now = anon_alone_at(kParentCopyFrame);
    page.child_likely_wrote = true;
    EXPECT_EQ(fate_of(page), PageFate::kCopiedByParent);
}

}  // namespace
}  // namespace cowtrace

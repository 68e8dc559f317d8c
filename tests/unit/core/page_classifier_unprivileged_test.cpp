// classify_unprivileged and classify_unprivileged_thp: without frame numbers only the present,
// file and exclusive bits are left (kernel facts: /work/shared/research/kernel-pagemap.md §1,
// §6). A write on either side makes the page exclusive on both, so with two sharers a copy's
// side is unknown; with three, the side still sharing did not copy. In a PMD-mapped THP the
// kernel (6.15+) reports every subpage's exclusivity from the head: that side is ignored.
#include <gtest/gtest.h>

#include "core/cow_census.hpp"
#include "pagemap_entries.hpp"

namespace cowtrace {
namespace {

using namespace testing;  // pagemap_entries.hpp

// The unprivileged baseline holds only pages present and anonymous at fork.
constexpr uint64_t kAtFork = kAnonShared;

TEST(ClassifyUnprivileged, StillSharedOnBothSidesIsShared) {
    EXPECT_EQ(classify_unprivileged(kAtFork, kAnonShared, kAnonShared), PageFate::kShared);
}

TEST(ClassifyUnprivileged, ExclusiveOnBothSidesIsACopyBySideUnknown) {
    EXPECT_EQ(classify_unprivileged(kAtFork, kAnonAlone, kAnonAlone), PageFate::kCopied);
}

TEST(ClassifyUnprivileged, WithThreeSharersAChildMappingItsPageAloneCopiedIt) {
    // Parent, child and a sibling shared the frame; the child wrote: the parent's frame is still
    // mapped twice.
    EXPECT_EQ(classify_unprivileged(kAtFork, kAnonAlone, kAnonShared), PageFate::kCopiedByChild);
}

TEST(ClassifyUnprivileged, WithThreeSharersAParentMappingItsPageAloneCopiedIt) {
    EXPECT_EQ(classify_unprivileged(kAtFork, kAnonShared, kAnonAlone), PageFate::kCopiedByParent);
}

TEST(ClassifyUnprivileged, PageOnlyTheChildMapsAfterTheParentWentIsRetained) {
    EXPECT_EQ(classify_unprivileged(kAtFork, kAnonAlone, kNotMapped), PageFate::kRetained);
}

TEST(ClassifyUnprivileged, PageTheChildStillSharesAfterTheParentWentIsShared) {
    // Someone else (a sibling) still maps the frame.
    EXPECT_EQ(classify_unprivileged(kAtFork, kAnonShared, kNotMapped), PageFate::kShared);
}

TEST(ClassifyUnprivileged, PageTheChildNoLongerMapsIsGone) {
    EXPECT_EQ(classify_unprivileged(kAtFork, kNotMapped, kAnonShared), PageFate::kGone);
    EXPECT_EQ(classify_unprivileged(kAtFork, kNotMapped, kAnonAlone), PageFate::kGone);
}

TEST(ClassifyUnprivileged, NewChildPageMappedOnceIsChildNew) {
    EXPECT_EQ(classify_unprivileged(kNotMapped, kAnonAlone, kNotMapped), PageFate::kChildNew);
}

TEST(ClassifyUnprivileged, NewChildPageNotMappedOnceIsNotCounted) {
    // The zero page reads as present, anonymous and not exclusive.
    EXPECT_EQ(classify_unprivileged(kNotMapped, kAnonShared, kNotMapped), PageFate::kNotShared);
}

TEST(ClassifyUnprivileged, PageCachePageIsNotShared) {
    EXPECT_EQ(classify_unprivileged(kFilePage, kFilePage, kFilePage), PageFate::kNotShared);
}

// Subpages of a THP both sides mapped at fork, by whether each side still maps it with a PMD.
constexpr bool kPmd = true;
constexpr bool kSplit = false;

TEST(ClassifyUnprivilegedThp, BothSidesPmdMappedIsSharedWhateverTheBitsSay) {
    // A write to a shared THP splits the writer's PMD: no split, no write.
    EXPECT_EQ(classify_unprivileged_thp(kAtFork, kAnonAlone, kAnonAlone, kPmd, kPmd),
              PageFate::kShared);
}

TEST(ClassifyUnprivilegedThp, SubpageTheChildWroteIsCopyByChild) {
    // The child's PMD was split; the parent, still PMD-mapped, reports every subpage exclusive
    // once the head is: its bit is ignored.
    EXPECT_EQ(classify_unprivileged_thp(kAtFork, kAnonAlone, kAnonAlone, kSplit, kPmd),
              PageFate::kCopiedByChild);
}

TEST(ClassifyUnprivilegedThp, SubpageTheChildDidNotWriteIsSharedThoughThePmdSideSaysExclusive) {
    EXPECT_EQ(classify_unprivileged_thp(kAtFork, kAnonShared, kAnonAlone, kSplit, kPmd),
              PageFate::kShared);
}

TEST(ClassifyUnprivilegedThp, SubpageTheParentWroteIsCopyByParent) {
    EXPECT_EQ(classify_unprivileged_thp(kAtFork, kAnonAlone, kAnonAlone, kPmd, kSplit),
              PageFate::kCopiedByParent);
}

TEST(ClassifyUnprivilegedThp, SubpageTheParentDidNotWriteIsSharedThoughThePmdSideSaysExclusive) {
    EXPECT_EQ(classify_unprivileged_thp(kAtFork, kAnonAlone, kAnonShared, kPmd, kSplit),
              PageFate::kShared);
}

TEST(ClassifyUnprivilegedThp, BothSidesSplitAreReadPageByPage) {
    EXPECT_EQ(classify_unprivileged_thp(kAtFork, kAnonAlone, kAnonAlone, kSplit, kSplit),
              PageFate::kCopied);
    EXPECT_EQ(classify_unprivileged_thp(kAtFork, kAnonShared, kAnonShared, kSplit, kSplit),
              PageFate::kShared);
    EXPECT_EQ(classify_unprivileged_thp(kAtFork, kAnonAlone, kAnonShared, kSplit, kSplit),
              PageFate::kCopiedByChild);
}

TEST(ClassifyUnprivilegedThp, SubpageTheChildNoLongerMapsIsGone) {
    EXPECT_EQ(classify_unprivileged_thp(kAtFork, kNotMapped, kAnonShared, kSplit, kPmd),
              PageFate::kGone);
}

TEST(ClassifyUnprivilegedThp, AfterTheParentWentThePageRulesApply) {
    EXPECT_EQ(classify_unprivileged_thp(kAtFork, kAnonAlone, kNotMapped, kPmd, kSplit),
              PageFate::kRetained);
    EXPECT_EQ(classify_unprivileged_thp(kAtFork, kAnonShared, kNotMapped, kPmd, kSplit),
              PageFate::kShared);
}

TEST(ClassifyUnprivilegedThp, AddressWithoutAForkTimePageFollowsThePageRules) {
    EXPECT_EQ(classify_unprivileged_thp(kNotMapped, kAnonAlone, kNotMapped, kPmd, kSplit),
              PageFate::kChildNew);
}

}  // namespace
}  // namespace cowtrace

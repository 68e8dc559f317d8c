// The tree's PSS from samples taken in turn: a parent's sample from before its fork must not
// count the pages its child now shares twice over; what a fork passed on is a guess that the
// next sample of either side replaces.
#include "model/tree_pss_ledger.hpp"

#include <gtest/gtest.h>

#include <map>

namespace cowtrace::model {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr TreePssLedger::Key kParent = 1, kChild = 2, kSecondChild = 3;

TEST(TreePssLedger, SumsTheLatestSampleOfEachProcess) {
    TreePssLedger l;
    l.sampled(kParent, 40 * kMiB);
    l.sampled(kChild, 10 * kMiB);
    l.sampled(kParent, 30 * kMiB);
    EXPECT_EQ(l.total_bytes(), 40 * kMiB);
    l.ended(kChild);
    EXPECT_EQ(l.total_bytes(), 30 * kMiB);
    EXPECT_EQ(l.share_of(kChild), 0u);
    EXPECT_EQ(l.tracked(), 1u) << "an ended process is forgotten";
}

TEST(TreePssLedger, AForkPassesHalfOfWhatIsSharedToTheChild) {
    TreePssLedger l;
    l.sampled(kParent, 66 * kMiB);
    l.forked(kParent, kChild, 64 * kMiB);
    EXPECT_EQ(l.total_bytes(), 66 * kMiB) << "a fork copies nothing";
    EXPECT_EQ(l.share_of(kParent), 34 * kMiB);
    EXPECT_EQ(l.share_of(kChild), 32 * kMiB);
    // The child copies 20 MiB: 20 of its own + 44 shared / 2.
    l.sampled(kChild, 42 * kMiB);
    EXPECT_EQ(l.total_bytes(), (34 + 42) * kMiB) << "not 66 + 42: the shared pages once";
    l.sampled(kParent, 44 * kMiB);  // 20 copied + 2 own + 44 shared / 2
    EXPECT_EQ(l.total_bytes(), 86 * kMiB);
}

TEST(TreePssLedger, TheParentsNextSampleTakesBackWhatAnUnsampledChildWasLent) {
    TreePssLedger l;
    l.sampled(kParent, 66 * kMiB);
    l.forked(kParent, kChild, 64 * kMiB);
    l.forked(kParent, kSecondChild, 64 * kMiB);
    EXPECT_EQ(l.total_bytes(), 66 * kMiB);
    // Three sharers: the parent's own sample divides the pages by three.
    l.sampled(kParent, (2 + 64 / 3) * kMiB);
    EXPECT_EQ(l.share_of(kChild), 0u);
    EXPECT_EQ(l.share_of(kSecondChild), 0u);
    EXPECT_EQ(l.total_bytes(), (2 + 64 / 3) * kMiB);
}

TEST(TreePssLedger, AChildsOwnSampleIsKeptWhenTheParentIsSampledAgain) {
    TreePssLedger l;
    l.sampled(kParent, 66 * kMiB);
    l.forked(kParent, kChild, 64 * kMiB);
    l.sampled(kChild, 33 * kMiB);
    l.sampled(kParent, 34 * kMiB);
    EXPECT_EQ(l.share_of(kChild), 33 * kMiB);
    EXPECT_EQ(l.total_bytes(), 67 * kMiB);
}

TEST(TreePssLedger, WhatIsStillSharedGoesBackToTheParentAtTheChildsEnd) {
    TreePssLedger l;
    l.sampled(kParent, 44 * kMiB);
    l.sampled(kChild, 42 * kMiB);
    l.sharing_ended(kChild, kParent, 44 * kMiB);
    l.ended(kChild);
    EXPECT_EQ(l.total_bytes(), 66 * kMiB) << "the parent owns the 44 MiB alone again";
    l.sampled(kParent, 65 * kMiB);
    EXPECT_EQ(l.total_bytes(), 65 * kMiB);
}

TEST(TreePssLedger, NothingPassesFromOrToAProcessWithoutAFigure) {
    TreePssLedger l;
    l.forked(kParent, kChild, 64 * kMiB);  // the parent was never sampled
    EXPECT_EQ(l.total_bytes(), 0u);
    EXPECT_EQ(l.share_of(kChild), 0u);
    l.sampled(kChild, 10 * kMiB);
    l.sharing_ended(kChild, kParent, 64 * kMiB);  // the parent is gone (or never sampled)
    EXPECT_EQ(l.share_of(kChild), 10 * kMiB);
    EXPECT_EQ(l.total_bytes(), 10 * kMiB);
}

TEST(TreePssLedger, ForEachShareVisitsWhatCounts) {
    TreePssLedger l;
    l.sampled(kParent, 66 * kMiB);
    l.forked(kParent, kChild, 64 * kMiB);
    std::map<TreePssLedger::Key, uint64_t> seen;
    l.for_each_share([&](TreePssLedger::Key k, uint64_t b) { seen[k] = b; });
    EXPECT_EQ(seen,
              (std::map<TreePssLedger::Key, uint64_t>{{kParent, 34 * kMiB}, {kChild, 32 * kMiB}}));
}

}  // namespace
}  // namespace cowtrace::model

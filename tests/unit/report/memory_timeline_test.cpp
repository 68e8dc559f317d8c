#include "report/memory_timeline.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "tree_fixture.hpp"

namespace cowtrace::report {
namespace {

using testing::kMiB;
using testing::kMs;
using testing::TreeFixture;

TEST(MemoryTimeline, TreePssSumsTheLatestSampleOfEachLiveProcess) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t child = f.child(root, 101, 100 * kMs, 500 * kMs);
    f.memory(root, 50 * kMs, 40 * kMiB, 40 * kMiB);
    f.memory(child, 200 * kMs, 30 * kMiB, 20 * kMiB);
    f.memory(root, 210 * kMs, 40 * kMiB, 25 * kMiB);
    auto series = tree_pss_series(f.tree);
    ASSERT_EQ(series.size(), 5u);
    EXPECT_EQ(series[0].pss_bytes, 40 * kMiB);
    EXPECT_EQ(series[1].pss_bytes, 60 * kMiB)
        << "the root's old sample still counts until its next";
    EXPECT_EQ(series[2].pss_bytes, 45 * kMiB);
    EXPECT_EQ(series[3].t_ns, 500 * kMs);
    EXPECT_EQ(series[3].pss_bytes, 25 * kMiB) << "an ended process no longer counts";
    EXPECT_EQ(series[4].pss_bytes, 0u);
    EXPECT_EQ(peak_tree_pss(series).pss_bytes, 60 * kMiB);
    EXPECT_EQ(peak_tree_pss(series).t_ns, 200 * kMs);
}

TEST(MemoryTimeline, SamplesAtTheSameInstantAreOnePoint) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t child = f.child(root, 101, 10 * kMs, std::nullopt);
    f.memory(root, 100 * kMs, 10 * kMiB, 10 * kMiB);
    f.memory(child, 100 * kMs, 10 * kMiB, 5 * kMiB);
    auto series = tree_pss_series(f.tree);
    ASSERT_EQ(series.size(), 2u);  // the sample instant, then the root's end
    EXPECT_EQ(series[0].pss_bytes, 15 * kMiB);
    EXPECT_EQ(series[1].pss_bytes, 5 * kMiB) << "the still-running child keeps counting";
}

TEST(MemoryTimeline, PeakRssNamesTheProcess) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t child = f.child(root, 101, 10 * kMs, 20 * kMs);
    f.memory(root, 5 * kMs, 10 * kMiB, 10 * kMiB);
    f.memory(child, 15 * kMs, 12 * kMiB, 6 * kMiB);
    ProcessMemoryPeak peak = peak_rss(f.tree);
    EXPECT_EQ(peak.rss_bytes, 12 * kMiB);
    EXPECT_EQ(peak.process, child);
    EXPECT_FALSE(has_memory_samples(TreeFixture().tree));
}

TEST(MemoryTimeline, AParentsSampleFromBeforeAForkIsNotCountedTwice) {
    // The CI baseline's run: a 66 MiB parent sampled before it forks, its child sampled after
    // copying 20 of the 64 MiB they share, both sampled once more as the child ends.
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t child = f.child(root, 101, 100 * kMs, 900 * kMs);
    f.episode(child, 64 * kMiB, 20 * kMiB, 20 * kMiB);
    f.memory(root, 50 * kMs, 66 * kMiB, 66 * kMiB);
    f.memory(child, 500 * kMs, 52 * kMiB, 42 * kMiB);  // 20 copied + 44 shared / 2
    f.memory(root, 800 * kMs, 66 * kMiB, 44 * kMiB);   // 20 copied + 2 own + 44 shared / 2
    f.memory(child, 800 * kMs, 52 * kMiB, 42 * kMiB);
    auto series = tree_pss_series(f.tree);
    TreePssPoint peak = peak_tree_pss(series);
    EXPECT_EQ(peak.pss_bytes, 86 * kMiB) << "66 + 20 copied, not 66 + 42";
    EXPECT_EQ(peak.t_ns, 800 * kMs);
    ASSERT_GE(series.size(), 3u);
    EXPECT_EQ(series[1].t_ns, 100 * kMs);
    EXPECT_EQ(series[1].pss_bytes, 66 * kMiB) << "a fork itself copies nothing";
    EXPECT_EQ(series[2].pss_bytes, (66 - 32 + 42) * kMiB)
        << "the child's sample replaces the half of the shared pages it took at the fork";
    // At the child's end, what it still shared (44 MiB) is the parent's alone again.
    auto at_end = std::find_if(series.begin(), series.end(),
                               [](const TreePssPoint& p) { return p.t_ns == 900 * kMs; });
    ASSERT_NE(at_end, series.end());
    EXPECT_EQ(at_end->pss_bytes, (44 + 22) * kMiB);
}

TEST(MemoryTimeline, AChildSampledAfterItsFinalCensusIsNotCountedTwice) {
    // The episode ends at the child's final census (700 ms), but the child lives until 900 ms and
    // is sampled at 800 ms still sharing 44 MiB: the shared half it counts must not also be
    // passed back to the parent (read 64 + 45.5 = 109.5 MiB in a CI run, true about 90).
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t child = f.child(root, 101, 100 * kMs, 900 * kMs);
    model::ForkEpisode& e = f.episode(child, 64 * kMiB, 20 * kMiB, 20 * kMiB);
    e.set_end_ns(700 * kMs);
    f.memory(root, 50 * kMs, 66 * kMiB, 66 * kMiB);
    f.memory(root, 600 * kMs, 66 * kMiB, 44 * kMiB);   // 20 copied + 2 own + 44 shared / 2
    f.memory(child, 650 * kMs, 52 * kMiB, 42 * kMiB);  // 20 copied + 44 shared / 2
    f.memory(child, 800 * kMs, 52 * kMiB, 42 * kMiB);
    TreePssPoint peak = peak_tree_pss(tree_pss_series(f.tree));
    EXPECT_EQ(peak.pss_bytes, 86 * kMiB) << "44 + 42, not 44 + 22 passed back + 42";
}

TEST(MemoryTimeline, AForkWithoutAParentSampleMovesNothing) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t child = f.child(root, 101, 100 * kMs, 900 * kMs);
    f.episode(child, 64 * kMiB, 0, 0);
    f.memory(child, 500 * kMs, 33 * kMiB, 33 * kMiB);
    TreePssPoint peak = peak_tree_pss(tree_pss_series(f.tree));
    EXPECT_EQ(peak.pss_bytes, 33 * kMiB);
}

TEST(MemoryTimeline, TheParentsNextSampleTakesBackWhatItLentAChildNotYetSampled) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t child = f.child(root, 101, 100 * kMs, 900 * kMs);
    f.episode(child, 64 * kMiB, 0, 0);
    f.memory(root, 50 * kMs, 66 * kMiB, 66 * kMiB);
    auto shares = tree_pss_shares_at(f.tree, 150 * kMs);
    ASSERT_EQ(shares.size(), 2u);
    EXPECT_EQ(shares[0].process, root);
    EXPECT_EQ(shares[0].pss_bytes, 34 * kMiB);
    EXPECT_EQ(shares[1].process, child);
    EXPECT_EQ(shares[1].pss_bytes, 32 * kMiB);
    // Three more children share the same pages: the parent's own sample says 64 / 5.
    f.memory(root, 200 * kMs, 66 * kMiB, (2 + 64 / 4) * kMiB);
    shares = tree_pss_shares_at(f.tree, 200 * kMs);
    ASSERT_EQ(shares.size(), 1u) << "the child's guessed half would count the pages twice";
    EXPECT_EQ(shares[0].process, root);
}

}  // namespace
}  // namespace cowtrace::report

#include "report/memory_timeline.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace cowtrace::report

#include "report/sibling_groups.hpp"

#include <gtest/gtest.h>

#include "tree_fixture.hpp"

namespace cowtrace::report {
namespace {

using testing::kMiB;
using testing::kMs;
using testing::TreeFixture;

// The root forks `n` alike short children, 10 ms apart, pids 101….
TreeFixture alike_children(int n) {
    TreeFixture f;
    size_t root = f.root(100, {"sh"});
    for (int k = 0; k < n; ++k) {
        uint64_t t = static_cast<uint64_t>(10 + 10 * k) * kMs;
        f.child(root, 101 + k, t, t + 5 * kMs);
    }
    return f;
}

TEST(SiblingGroups, AlikeLeafSiblingsFoldIntoOneRun) {
    TreeFixture f = alike_children(5);
    ProcessLabels labels(f.tree);
    SiblingGroups groups(f.tree, labels, {});
    std::vector<SiblingRun> runs = groups.runs_of(0);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].first, 0u);
    EXPECT_EQ(runs[0].count, 5u);
    EXPECT_TRUE(runs[0].folded());
}

TEST(SiblingGroups, AForkThatCopiedFarMoreStaysOnItsOwn) {
    TreeFixture f = alike_children(5);
    for (size_t c = 1; c <= 5; ++c) f.episode(c, 64 * kMiB, 2 * kMiB, 2 * kMiB);
    f.tree.episodes[2].copied_bytes_peak = 40 * kMiB;  // the third child
    ProcessLabels labels(f.tree);
    SiblingGroups groups(f.tree, labels, {});
    std::vector<SiblingRun> runs = groups.runs_of(0);
    // Two alike, the outlier, two alike: fewer than three never fold.
    ASSERT_EQ(runs.size(), 5u);
    for (const SiblingRun& r : runs) EXPECT_FALSE(r.folded());
}

TEST(SiblingGroups, AParentOrAnotherOutcomeBreaksTheRun) {
    TreeFixture f = alike_children(7);
    f.tree.processes[4].exit.code = 1;                        // the fourth child failed
    size_t grandchild = f.child(7, 300, 75 * kMs, 76 * kMs);  // the seventh has a child
    (void)grandchild;
    ProcessLabels labels(f.tree);
    SiblingGroups groups(f.tree, labels, {});
    std::vector<SiblingRun> runs = groups.runs_of(0);
    // 101–103 alike; 104 exit 1; 105, 106 alike but only two; 107 has a child.
    ASSERT_EQ(runs.size(), 5u);
    EXPECT_EQ(runs[0].count, 3u);
    EXPECT_TRUE(runs[0].folded());
    for (size_t r = 1; r < runs.size(); ++r) {
        EXPECT_EQ(runs[r].count, 1u);
        EXPECT_EQ(runs[r].first, r + 2);
    }
}

TEST(SiblingGroups, WithoutFoldingEverySiblingIsAlone) {
    TreeFixture f = alike_children(4);
    ProcessLabels labels(f.tree);
    SiblingGroups groups(f.tree, labels, {.fold = false});
    EXPECT_EQ(groups.runs_of(0).size(), 4u);
}

TEST(SiblingGroups, ByArgumentsOnlyTheSameArgumentsFold) {
    TreeFixture f = alike_children(4);
    f.tree.processes[4].argv = {"sh", "-x"};
    ProcessLabels labels(f.tree);
    EXPECT_EQ(SiblingGroups(f.tree, labels, {}).runs_of(0).size(), 1u);
    SiblingGroups by_args(f.tree, labels, {.by_arguments = true});
    std::vector<SiblingRun> runs = by_args.runs_of(0);
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[0].count, 3u);
}

TEST(SiblingGroups, GroupFiguresGiveMinMedianAndMax) {
    TreeFixture f = alike_children(4);
    f.episode(1, 8 * kMiB, 100, 100);
    f.episode(2, 8 * kMiB, 300, 300);
    f.episode(3, 8 * kMiB, 200, 200);
    f.episode(4, 8 * kMiB, 0, 0).census = model::ForkEpisode::Census::kShortLived;
    f.memory(1, 12 * kMs, 5 * kMiB, 3 * kMiB);
    ProcessLabels labels(f.tree);
    SiblingGroups groups(f.tree, labels, {});
    SiblingGroupFigures g = group_figures(f.tree, groups, 0, groups.runs_of(0).at(0));
    EXPECT_EQ(g.pids, (std::vector<pid_t>{101, 102, 103, 104}));
    EXPECT_EQ(g.copied_bytes_peak.count, 3u);
    EXPECT_EQ(g.copied_bytes_peak.min, 100u);
    EXPECT_EQ(g.copied_bytes_peak.median, 200u);
    EXPECT_EQ(g.copied_bytes_peak.max, 300u);
    EXPECT_EQ(g.copied_bytes_peak.total, 600u);
    EXPECT_EQ(g.short_lived, 1u);
    EXPECT_EQ(g.lifetime_ns.median, 5 * kMs);
    EXPECT_EQ(g.peak_pss_bytes.count, 1u);
    EXPECT_EQ(g.peak_pss_bytes.max, 3 * kMiB);
}

}  // namespace
}  // namespace cowtrace::report

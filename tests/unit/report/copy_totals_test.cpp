#include "report/copy_totals.hpp"

#include <gtest/gtest.h>

#include "tree_fixture.hpp"

namespace cowtrace::report {
namespace {

using testing::kMiB;
using testing::kMs;
using testing::TreeFixture;

// A shell loop: ten children one after the other, each copying 8 MiB. Summed, 80 MiB; at once,
// never more than one child's 8 MiB.
TEST(CopyTotals, ChildrenOneAfterTheOtherNeverAddUp) {
    TreeFixture f;
    size_t root = f.root(100, {"sh"});
    for (int k = 0; k < 10; ++k) {
        uint64_t start = (100 + 150 * k) * kMs;
        size_t c = f.child(root, 200 + k, start, start + 100 * kMs);
        f.episode(c, 64 * kMiB, 8 * kMiB, 8 * kMiB);
    }
    CopyTotals t = copy_totals(f.tree);
    EXPECT_EQ(t.total_bytes, 80 * kMiB);
    EXPECT_EQ(t.peak_concurrent_bytes, 8 * kMiB);
    EXPECT_EQ(t.measured, 10u);
}

// Two children alive together: their copies add up while both hold them.
TEST(CopyTotals, OverlappingChildrenAddUpAtTheMomentBothHoldTheirCopies) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t a = f.child(root, 201, 100 * kMs, 900 * kMs);  // samples at 500 ms and 900 ms
    size_t b = f.child(root, 202, 300 * kMs, 700 * kMs);  // samples at 500 ms and 700 ms
    f.episode(a, 64 * kMiB, 10 * kMiB, 10 * kMiB);
    f.episode(b, 64 * kMiB, 6 * kMiB, 6 * kMiB);
    CopyTotals t = copy_totals(f.tree);
    EXPECT_EQ(t.peak_concurrent_bytes, 16 * kMiB);
    EXPECT_EQ(t.peak_concurrent_t_ns, 500 * kMs);
    EXPECT_EQ(t.total_bytes, 16 * kMiB);
}

// The final census is often at the very end of the episode: its figure still counts.
TEST(CopyTotals, AFinalCensusAtTheEndCounts) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t c = f.child(root, 201, 100 * kMs, 500 * kMs);
    model::ForkEpisode& e = f.episode(c, 64 * kMiB, 12 * kMiB, 12 * kMiB);
    std::span<const model::CowSample> kept = f.tree.samples_of(e);
    std::vector<model::CowSample> samples(kept.begin(), kept.end());
    samples.front().copied_bytes = 4 * kMiB;  // midway; 12 MiB at the end (500 ms)
    e.samples = f.tree.episode_samples.keep(samples);
    CopyTotals t = copy_totals(f.tree);
    EXPECT_EQ(t.peak_concurrent_bytes, 12 * kMiB);
    EXPECT_EQ(t.peak_concurrent_t_ns, 500 * kMs);
}

// Estimated points are not counted (as an episode's own peak); short-lived episodes have no
// figures.
TEST(CopyTotals, EstimatesAndShortLivedEpisodesAreNotCounted) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t c = f.child(root, 201, 100 * kMs, 500 * kMs);
    model::ForkEpisode& e = f.episode(c, 64 * kMiB, 5 * kMiB, 5 * kMiB);
    std::span<const model::CowSample> kept = f.tree.samples_of(e);
    std::vector<model::CowSample> samples(kept.begin(), kept.end());
    samples.front().copied_bytes = 30 * kMiB;
    samples.front().exact = false;
    e.samples = f.tree.episode_samples.keep(samples);
    size_t s = f.child(root, 202, 150 * kMs, 160 * kMs);
    model::ForkEpisode& short_lived = f.episode(s, 64 * kMiB, 0, 0);
    short_lived.census = model::ForkEpisode::Census::kShortLived;
    short_lived.samples = {};
    CopyTotals t = copy_totals(f.tree);
    EXPECT_EQ(t.peak_concurrent_bytes, 5 * kMiB);
    EXPECT_EQ(t.measured, 1u);
}

}  // namespace
}  // namespace cowtrace::report

// Copy-on-write episodes and memory samples as the collector records them: each episode is
// tied to its child, keeps its samples, peak and final figures, and ends as the record says.
#include <gtest/gtest.h>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using model::ForkEpisode;
using testing::built_tree;
using testing::kCollector;
using testing::kRoot;
using testing::only;
using testing::TraceBuilder;

constexpr pid_t kChild = 200;
constexpr uint64_t kMiB = 1 << 20;

TraceBuilder forked_child() {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .hello(kRoot, 1100, kCollector, "/usr/bin/redis-server", {"redis-server"})
        .created(kRoot, 2000, wire::CreateHow::kFork, kChild, {0x401000})
        .child_start(kChild, 2001, wire::CreateHow::kFork, kRoot);
    return b;
}

TEST(ForkEpisode, SamplesGiveTheFinalAndPeakCopiedBytes) {
    TraceBuilder b = forked_child();
    b.episode_start(kChild, 2000, kRoot, 64 * kMiB)
        .episode_sample(kChild, 3000, 63 * kMiB, 1 * kMiB, kMiB, 0)
        .episode_sample(kChild, 4000, 60 * kMiB, 4 * kMiB, 3 * kMiB, kMiB)
        .episode_sample(kChild, 5000, 61 * kMiB, 3 * kMiB, 2 * kMiB, kMiB);
    auto tree = built_tree(b);
    ASSERT_EQ(tree.episodes.size(), 1u);
    const ForkEpisode& e = tree.episodes[0];
    EXPECT_EQ(e.parent, kRoot);
    EXPECT_EQ(e.child, kChild);
    EXPECT_EQ(tree.processes[e.child_index].pid, kChild);
    EXPECT_EQ(e.shared_bytes_at_fork, 64 * kMiB);
    EXPECT_EQ(tree.samples_of(e).size(), 3u);
    EXPECT_EQ(e.copied_bytes_peak, 4 * kMiB);
    EXPECT_EQ(tree.copied_bytes_final(e), 3 * kMiB);
    EXPECT_EQ(tree.copied_by_parent_bytes(e), 2 * kMiB);
    EXPECT_EQ(tree.copied_by_child_bytes(e), kMiB);
    EXPECT_EQ(e.census_cost_ns, 3000u);
}

TEST(ForkEpisode, AnEstimateAboveEveryCountedSampleIsThePeakOnlyWhenItIsTheLast) {
    auto estimated = [](TraceBuilder& b, uint64_t t, uint64_t copied) {
        wire::EpisodeSample r;
        r.shared_bytes = 64 * kMiB - copied;
        r.copied_bytes = copied;
        r.estimated = true;
        r.copied_error_bytes = kMiB / 2;
        b.add(r, kChild, t);
    };
    TraceBuilder b = forked_child();
    b.episode_start(kChild, 2000, kRoot, 64 * kMiB)
        .episode_sample(kChild, 3000, 60 * kMiB, 4 * kMiB, 0, 4 * kMiB);
    estimated(b, 4000, 9 * kMiB);  // noise, or not: a counted sample follows
    b.episode_sample(kChild, 5000, 58 * kMiB, 6 * kMiB, 0, 6 * kMiB);
    estimated(b, 6000, 12 * kMiB);  // the last: the child ended unannounced
    TraceBuilder open = b;
    b.episode_end(kChild, 7000, wire::EpisodeEndReason::kExit);
    auto tree = built_tree(b);
    ASSERT_EQ(tree.episodes.size(), 1u);
    const ForkEpisode& e = tree.episodes[0];
    EXPECT_EQ(tree.copied_bytes_final(e), 12 * kMiB);
    EXPECT_EQ(e.copied_bytes_peak, 12 * kMiB) << "not below the final figure";
    ASSERT_FALSE(e.approximations.empty());
    EXPECT_NE(e.approximations.back().find("last sample's estimate"), std::string::npos);
    // Still open at the end of the trace: the counted peak stands.
    auto open_tree = built_tree(open);
    EXPECT_EQ(open_tree.episodes[0].copied_bytes_peak, 6 * kMiB);
}

TEST(ForkEpisode, EpisodeEndedByExecHasItsEndTime) {
    TraceBuilder b = forked_child();
    b.episode_start(kChild, 2000, kRoot, kMiB)
        .episode_end(kChild, 2500, wire::EpisodeEndReason::kExec);
    auto tree = built_tree(b);
    ASSERT_EQ(tree.episodes.size(), 1u);
    EXPECT_EQ(tree.episodes[0].end, ForkEpisode::End::kExec);
    ASSERT_TRUE(tree.episodes[0].end_ns().has_value());
    EXPECT_EQ(*tree.episodes[0].end_ns(), 1500u);
}

TEST(ForkEpisode, EpisodeWithoutAnEndIsStillRunning) {
    TraceBuilder b = forked_child();
    b.episode_start(kChild, 2000, kRoot, kMiB);
    auto tree = built_tree(b);
    ASSERT_EQ(tree.episodes.size(), 1u);
    EXPECT_EQ(tree.episodes[0].end, ForkEpisode::End::kRunning);
    EXPECT_FALSE(tree.episodes[0].end_ns().has_value());
}

TEST(ForkEpisode, SamplesAfterTheEpisodeEndedAreIgnored) {
    TraceBuilder b = forked_child();
    b.episode_start(kChild, 2000, kRoot, kMiB)
        .episode_end(kChild, 2500, wire::EpisodeEndReason::kExit)
        .episode_sample(kChild, 3000, 0, kMiB, 0, 0);
    auto tree = built_tree(b);
    ASSERT_EQ(tree.episodes.size(), 1u);
    EXPECT_TRUE(tree.samples_of(tree.episodes[0]).empty());
}

TEST(ForkEpisode, RegionsAreMergedByNameKeepingTheirPeak) {
    TraceBuilder b = forked_child();
    b.episode_start(kChild, 2000, kRoot, kMiB)
        .episode_regions(kChild, 3000,
                         {{"[heap]", kMiB, 8192, 8192, 0}, {"[stack]", 4096, 0, 0, 0}})
        .episode_regions(kChild, 4000, {{"[heap]", kMiB, 4096, 4096, 0}});
    auto tree = built_tree(b);
    ASSERT_EQ(tree.episodes.size(), 1u);
    const auto& regions = tree.regions_of(tree.episodes[0]);
    ASSERT_EQ(regions.size(), 2u);
    EXPECT_EQ(regions[0].name, "[heap]");
    EXPECT_EQ(regions[0].copied_bytes_final, 4096u);
    EXPECT_EQ(regions[0].copied_bytes_peak, 8192u);
    EXPECT_EQ(regions[1].name, "[stack]");
}

TEST(ForkEpisode, ApproximationsAreKept) {
    TraceBuilder b = forked_child();
    b.episode_start(kChild, 2000, kRoot, kMiB, {"THP split", "KSM"});
    auto tree = built_tree(b);
    ASSERT_EQ(tree.episodes.size(), 1u);
    EXPECT_EQ(tree.episodes[0].approximations, (std::vector<std::string>{"THP split", "KSM"}));
}

TEST(ForkEpisode, EpisodesShareTheirRegionNamesAndApproximations) {
    constexpr pid_t kSecond = 201;
    TraceBuilder b = forked_child();
    b.created(kRoot, 2100, wire::CreateHow::kFork, kSecond, {0x401000})
        .child_start(kSecond, 2101, wire::CreateHow::kFork, kRoot)
        .episode_start(kChild, 2000, kRoot, kMiB, {"THP split", "KSM"})
        .episode_start(kSecond, 2100, kRoot, kMiB, {"THP split", "KSM"})
        .episode_regions(kChild, 3000, {{"/usr/lib/x86_64-linux-gnu/libc.so.6", kMiB, 0, 0, 0}})
        .episode_regions(kSecond, 3000, {{"/usr/lib/x86_64-linux-gnu/libc.so.6", kMiB, 0, 0, 0}});
    auto tree = built_tree(b);
    ASSERT_EQ(tree.episodes.size(), 2u);
    const ForkEpisode& first = tree.episodes[0];
    const ForkEpisode& second = tree.episodes[1];
    EXPECT_TRUE(first.approximations.shares_storage_with(second.approximations));
    ASSERT_EQ(tree.regions_of(first).size(), 1u);
    ASSERT_EQ(tree.regions_of(second).size(), 1u);
    EXPECT_EQ(tree.regions_of(first)[0].name, "/usr/lib/x86_64-linux-gnu/libc.so.6");
    EXPECT_TRUE(
        tree.regions_of(first)[0].name.shares_storage_with(tree.regions_of(second)[0].name));
}

TEST(ForkEpisode, ForkTimeMovesTheChildsStartBack) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .child_start(kChild, 1600, wire::CreateHow::kFork, kRoot)
        .episode_start(kChild, 1700, kRoot, kMiB, {}, 1500);
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, kChild).start_ns, 500u);
}

TEST(ForkEpisode, MemorySamplesBelongToTheirProcessInTimeOrder) {
    TraceBuilder b = forked_child();
    b.memory_sample(kChild, 3000, 10 * kMiB, 5 * kMiB)
        .memory_sample(kChild, 4000, 12 * kMiB, 6 * kMiB);
    auto tree = built_tree(b);
    const auto& memory = tree.memory_of(only(tree, kChild));
    ASSERT_EQ(memory.size(), 2u);
    EXPECT_EQ(memory[0].t_ns, 2000u);
    EXPECT_EQ(memory[0].rss_bytes, 10 * kMiB);
    EXPECT_EQ(memory[1].pss_bytes, 6 * kMiB);
    EXPECT_TRUE(tree.memory_of(only(tree, kRoot)).empty());
}

}  // namespace
}  // namespace cowtrace

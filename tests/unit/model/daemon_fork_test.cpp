// A daemon's fork: the parent exits right after it, before the collector reads the child's
// memory. The child is not measured, and not because it was short-lived: nothing stayed
// shared with it, and its episode says so however long the child lived.
#include <gtest/gtest.h>

#include <algorithm>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using testing::built_tree;
using testing::kCollector;
using testing::TraceBuilder;

constexpr pid_t kLauncher = 400;
constexpr pid_t kDaemon = 401;
constexpr uint64_t kMs = 1'000'000;

// The launcher forks the daemon at 2 ms and exits at parent_exit; the daemon exits at 6 s.
TraceBuilder daemon_run(uint64_t parent_exit) {
    TraceBuilder b;
    wire::TraceStart start;
    start.collector_pid = kCollector;
    start.root_pid = kLauncher;
    start.census_mode = "exact";
    start.features = wire::kFeatureOutsideBaseline;
    b.add(start, kCollector, 1 * kMs);
    b.hello(kLauncher, 1 * kMs, kCollector, "/usr/bin/redis-server", {"redis-server"});
    b.created(kLauncher, 2 * kMs, wire::CreateHow::kFork, kDaemon);
    b.child_start(kDaemon, 2 * kMs + 1000, wire::CreateHow::kFork, kLauncher);
    uint64_t daemon_exit = 6000 * kMs;
    std::vector<std::pair<uint64_t, pid_t>> exits = {{parent_exit, kLauncher},
                                                     {daemon_exit, kDaemon}};
    std::sort(exits.begin(), exits.end());
    for (auto [t, pid] : exits) {
        b.exit(pid, t, wire::ExitHow::kExit, 0);
        b.kernel_exit(pid, t + 1000, 0);
    }
    b.trace_end(kCollector, 6001 * kMs, 0);
    return b;
}

const model::ForkEpisode& episode_of(const model::ProcessTree& tree, pid_t child) {
    for (const auto& e : tree.episodes) {
        if (e.child == child) return e;
    }
    ADD_FAILURE() << "no episode of " << child;
    static model::ForkEpisode none;
    return none;
}

TEST(DaemonFork, AParentThatExitsFirstLeavesNothingSharedAndTheEpisodeSaysSo) {
    auto tree = built_tree(daemon_run(3 * kMs));
    const model::ForkEpisode& e = episode_of(tree, kDaemon);
    EXPECT_EQ(e.census, model::ForkEpisode::Census::kShortLived);
    ASSERT_TRUE(e.parent_ended_first_ns());
    EXPECT_EQ(e.parent_ended_first_ns(), testing::only(tree, kLauncher).end_ns());
    EXPECT_LT(*e.parent_ended_first_ns(), 3 * kMs) << "since the trace's start, 1 ms in";
}

TEST(DaemonFork, AParentThatOutlivesItsUnmeasuredChildIsNotSaidToHaveEndedFirst) {
    auto tree = built_tree(daemon_run(7000 * kMs));
    const model::ForkEpisode& e = episode_of(tree, kDaemon);
    EXPECT_EQ(e.census, model::ForkEpisode::Census::kShortLived);
    EXPECT_FALSE(e.parent_ended_first_ns());
}

}  // namespace
}  // namespace cowtrace

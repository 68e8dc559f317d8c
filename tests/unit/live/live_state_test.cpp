// The live state folds the collection's records: processes with their parent and command, open
// episodes with their latest figures and copy rate, the ones just ended, the tree's PSS; and
// forgets a process when it ends.
#include "live/live_state.hpp"

#include <gtest/gtest.h>

#include "live_records.hpp"

namespace cowtrace::live {
namespace {

using testing::TraceBuilder;

constexpr pid_t kServer = 101;
constexpr pid_t kChild = 202;

TEST(LiveState, AForkedChildRunsItsParentsCommandUnderItsParent) {
    LiveState s;
    s.on_process_started(kServer);
    s.on_process_started(kChild);
    TraceBuilder b;
    b.hello(kServer, 1000, 1, "/usr/bin/redis-server", {"redis-server", "*:6379"})
        .child_start(kChild, 2000, wire::CreateHow::kFork, kServer);
    feed(s, b);
    ASSERT_EQ(s.processes().size(), 2u);
    EXPECT_EQ(s.processes().at(kServer).command, "redis-server *:6379");
    EXPECT_EQ(s.processes().at(kChild).command, "redis-server *:6379");
    EXPECT_EQ(s.processes().at(kChild).parent, kServer);
    EXPECT_TRUE(s.processes().at(kChild).alive);
}

TEST(LiveState, TheCopyRateIsTheGrowthBetweenTheLastTwoSamples) {
    LiveState s;
    s.on_process_started(kServer);
    s.on_process_started(kChild);
    TraceBuilder b;
    b.episode_start(kChild, 1000 * kMs, kServer, 64 * kMiB)
        .episode_sample(kChild, 1100 * kMs, 60 * kMiB, 4 * kMiB, 0, 4 * kMiB);
    feed(s, b);
    ASSERT_EQ(s.episodes().count(kChild), 1u);
    EXPECT_EQ(s.episodes().at(kChild).copied_bytes_per_s, 0) << "one sample: no rate yet";
    TraceBuilder more;
    more.episode_sample(kChild, 1600 * kMs, 54 * kMiB, 10 * kMiB, 0, 10 * kMiB);
    feed(s, more);
    const LiveEpisode& e = s.episodes().at(kChild);
    EXPECT_EQ(e.shared_bytes, 64 * kMiB);
    EXPECT_EQ(e.copied_bytes, 10 * kMiB);
    EXPECT_DOUBLE_EQ(e.copied_bytes_per_s, 12.0 * kMiB) << "6 MiB in half a second";
    EXPECT_EQ(e.samples, 2u);
}

TEST(LiveState, AnEndedEpisodeIsToldOnceWithItsLastFigures) {
    LiveState s;
    s.on_process_started(kServer);
    s.on_process_started(kChild);
    std::vector<EndedEpisode> told;
    s.on_episode_ended = [&](const EndedEpisode& e) { told.push_back(e); };
    TraceBuilder b;
    b.hello(kServer, 500 * kMs, 1, "/usr/bin/redis-server", {"redis-server"})
        .episode_start(kChild, 1000 * kMs, kServer, 64 * kMiB)
        .episode_sample(kChild, 1100 * kMs, 44 * kMiB, 20 * kMiB, 0, 20 * kMiB)
        .episode_end(kChild, 3000 * kMs, wire::EpisodeEndReason::kExit)
        .episode_end(kChild, 3001 * kMs, wire::EpisodeEndReason::kExit);
    feed(s, b);
    s.on_process_ended(kChild);
    ASSERT_EQ(told.size(), 1u);
    EXPECT_EQ(told[0].parent, kServer);
    EXPECT_EQ(told[0].child, kChild);
    EXPECT_EQ(told[0].command, "redis-server");
    EXPECT_EQ(told[0].duration_ns, 2000 * kMs);
    EXPECT_EQ(told[0].copied_bytes, 20 * kMiB);
    EXPECT_TRUE(told[0].measured);
    EXPECT_TRUE(s.episodes().empty());
    ASSERT_EQ(s.recently_ended().size(), 1u);
    EXPECT_EQ(s.processes().count(kChild), 0u) << "a process gone is forgotten";
    EXPECT_EQ(s.copied_bytes_total(), 20 * kMiB);
}

// The census thread writes an episode's end after its final census: the parent may have ended,
// and been forgotten, by then (a parent that exits right after reaping its child).
TEST(LiveState, AnEpisodeEndedAfterItsParentWasForgottenStillNamesItsCommand) {
    LiveState s;
    s.on_process_started(kServer);
    s.on_process_started(kChild);
    std::vector<EndedEpisode> told;
    s.on_episode_ended = [&](const EndedEpisode& e) { told.push_back(e); };
    TraceBuilder b;
    b.hello(kServer, 500 * kMs, 1, "/usr/bin/redis-server", {"redis-server"})
        .episode_start(kChild, 1000 * kMs, kServer, 64 * kMiB)
        .episode_sample(kChild, 1100 * kMs, 44 * kMiB, 20 * kMiB, 0, 20 * kMiB);
    feed(s, b);
    s.on_process_ended(kServer);
    ASSERT_EQ(s.processes().count(kServer), 0u);
    TraceBuilder end;
    end.episode_end(kChild, 3000 * kMs, wire::EpisodeEndReason::kExit);
    feed(s, end);
    ASSERT_EQ(told.size(), 1u);
    EXPECT_EQ(told[0].parent, kServer);
    EXPECT_EQ(told[0].command, "redis-server");
}

TEST(LiveState, AnEpisodeEndedBeforeItsFirstSampleMeasuredNothing) {
    LiveState s;
    s.on_process_started(kServer);
    s.on_process_started(kChild);
    TraceBuilder b;
    b.episode_start(kChild, 1000, kServer, 64 * kMiB)
        .episode_end(kChild, 2000, wire::EpisodeEndReason::kExit);
    feed(s, b);
    ASSERT_EQ(s.recently_ended().size(), 1u);
    EXPECT_FALSE(s.recently_ended().front().measured);
}

TEST(LiveState, ATraceEndingWithTheEpisodeOpenLeavesItOpen) {
    LiveState s;
    s.on_process_started(kChild);
    TraceBuilder b;
    b.episode_start(kChild, 1000, kServer, 64 * kMiB)
        .episode_end(kChild, 2000, wire::EpisodeEndReason::kRunning);
    feed(s, b);
    EXPECT_EQ(s.episodes().size(), 1u);
    EXPECT_TRUE(s.recently_ended().empty());
}

TEST(LiveState, TheTreePssCountsWhatParentAndChildShareOnce) {
    LiveState s;
    s.on_process_started(kServer);
    TraceBuilder b;
    b.memory_sample(kServer, 1000, 70 * kMiB, 64 * kMiB);
    feed(s, b);
    EXPECT_EQ(s.tree_pss_bytes(), 64 * kMiB);
    s.on_process_started(kChild);
    TraceBuilder fork;
    fork.episode_start(kChild, 2000, kServer, 64 * kMiB)
        .memory_sample(kChild, 3000, 64 * kMiB, 32 * kMiB);
    feed(s, fork);
    EXPECT_EQ(s.pss_of(kChild), 32 * kMiB);
    EXPECT_EQ(s.tree_pss_bytes(), 64 * kMiB) << "half passed to the child, the sum unchanged";
    s.on_process_ended(kChild);
    EXPECT_EQ(s.tree_pss_bytes(), 64 * kMiB) << "the child's share went back to the parent";
    EXPECT_EQ(s.pss_of(kChild), 0u);
}

TEST(LiveState, OnlyTheLastFewEndedEpisodesAreKept) {
    LiveState s;
    s.on_process_started(kServer);
    TraceBuilder b;
    for (pid_t child = 300; child < 300 + 20; ++child) {
        b.episode_start(child, 1000, kServer, kMiB)
            .episode_end(child, 2000, wire::EpisodeEndReason::kExit);
    }
    feed(s, b);
    EXPECT_EQ(s.recently_ended().size(), LiveState::kRecentEnded);
    EXPECT_EQ(s.recently_ended().back().child, 319);
    EXPECT_EQ(s.episodes_seen(), 20u);
}

TEST(LiveState, AttachedProcessesAndTheirExecsCarryTheirCommandLines) {
    LiveState s;
    s.on_process_started(kServer);
    wire::ProcessCarried carried;
    carried.creator = 1;
    const char* argv[] = {"bash", "-c", "sleep 1", nullptr};
    carried.argv = wire::TextList::of_array(argv);
    TraceBuilder b;
    b.add(carried, kServer, 1000);
    feed(s, b);
    EXPECT_EQ(s.processes().at(kServer).command, "bash -c sleep 1");
    EXPECT_EQ(s.processes().at(kServer).parent, 1);
    wire::KernelExec exec;
    const char* new_argv[] = {"cow_writer", "--share", "64", nullptr};
    exec.argv = wire::TextList::of_array(new_argv);
    TraceBuilder after;
    after.add(exec, kServer, 2000);
    feed(s, after);
    EXPECT_EQ(s.processes().at(kServer).command, "cow_writer --share 64");
}

}  // namespace
}  // namespace cowtrace::live

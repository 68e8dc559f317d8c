// What the collector's first and last records tell the model: the root process and its
// creator, the time origin, whether the trace is complete and what was left running.
#include <gtest/gtest.h>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using testing::built_tree;
using testing::exited_status;
using testing::kCollector;
using testing::kRoot;
using testing::only;
using testing::TraceBuilder;

TEST(TraceBounds, RootIsCreatedByTheCollectorAtItsForkTime) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1200, {"make", "-j2"});
    auto tree = built_tree(b);
    const auto& root = only(tree, kRoot);
    EXPECT_EQ(root.ppid, kCollector);
    EXPECT_EQ(root.how, wire::CreateHow::kFork);
    EXPECT_EQ(root.start_ns, 200u);
    EXPECT_TRUE(root.creation_seen_by_shim);
    EXPECT_EQ(tree.root_pid, kRoot);
    EXPECT_EQ(tree.collector_pid, kCollector);
    EXPECT_EQ(tree.command, (std::vector<std::string>{"make", "-j2"}));
    EXPECT_EQ(tree.host, "testhost");
    EXPECT_EQ(tree.kernel_release, "6.18.0");
    EXPECT_EQ(tree.census_mode, model::CensusMode::kExact);
    EXPECT_TRUE(tree.kernel_events);
}

TEST(TraceBounds, RecordModeTraceHasNoRootProcess) {
    TraceBuilder b;
    b.trace_start(kCollector, 0, 1000, 1000);
    auto tree = built_tree(b);
    EXPECT_TRUE(tree.processes.empty());
}

TEST(TraceBounds, TraceEndMakesTheTraceCompleteWithTheRootsStatus) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .kernel_exit(kRoot, 5000, exited_status(2))
        .trace_end(kCollector, 6000, exited_status(2));
    auto tree = built_tree(b);
    EXPECT_TRUE(tree.complete);
    ASSERT_TRUE(tree.root_status.has_value());
    EXPECT_EQ(*tree.root_status, exited_status(2));
    EXPECT_EQ(tree.end_ns, 5000u);
    EXPECT_FALSE(only(tree, kRoot).still_running);
}

TEST(TraceBounds, UnknownRootStatusStaysUnknown) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000).trace_end(kCollector, 6000, -1);
    auto tree = built_tree(b);
    EXPECT_FALSE(tree.root_status.has_value());
}

TEST(TraceBounds, ProcessesTheCollectorLeftBehindAreStillRunning) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .created(kRoot, 2000, wire::CreateHow::kFork, 200)
        .child_start(200, 2001, wire::CreateHow::kFork, kRoot)
        .kernel_exit(kRoot, 3000, exited_status(0))
        .trace_end(kCollector, 4000, exited_status(0), {200});
    auto tree = built_tree(b);
    EXPECT_TRUE(only(tree, 200).still_running);
    EXPECT_FALSE(only(tree, kRoot).still_running);
}

// `cowtrace run` lists the processes it left running: a process nobody saw end (reaped by a
// parent the library could not follow) is not among them.
TEST(TraceBounds, ProcessWithAnUnknownEndNotListedAsLeftBehindIsNotRunning) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .child_start(200, 2001, wire::CreateHow::kAtfork, kRoot)
        .kernel_exit(kRoot, 3000, exited_status(0))
        .trace_end(kCollector, 4000, exited_status(0));
    auto tree = built_tree(b);
    EXPECT_FALSE(only(tree, 200).still_running);
    EXPECT_FALSE(only(tree, 200).end_ns().has_value());
}

TEST(TraceBounds, TraceWithoutItsEndIsIncompleteAndUnendedProcessesAreRunning) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000).hello(kRoot, 1100, kCollector, "/bin/sh", {"sh"});
    auto tree = built_tree(b);
    EXPECT_FALSE(tree.complete);
    EXPECT_TRUE(only(tree, kRoot).still_running);
}

}  // namespace
}  // namespace cowtrace

// Pids are reused: once a process has ended, a new creation under its pid is another process,
// and every later record about that pid belongs to the newcomer.
#include <gtest/gtest.h>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using model::ExitStatus;
using testing::all_with_pid;
using testing::built_tree;
using testing::child_pids;
using testing::exited_status;
using testing::kCollector;
using testing::kRoot;
using testing::only;
using testing::TraceBuilder;

constexpr pid_t kReused = 200;

// Root forks kReused, which exits with code 1 and is reaped.
TraceBuilder first_holder_ended() {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .hello(kRoot, 1100, kCollector, "/bin/sh", {"sh"})
        .created(kRoot, 2000, wire::CreateHow::kFork, kReused)
        .child_start(kReused, 2001, wire::CreateHow::kFork, kRoot)
        .exit(kReused, 2100, wire::ExitHow::kExit, 1)
        .wait_reaped(kRoot, 2200, wire::WaitCall::kWaitpid, kReused, exited_status(1));
    return b;
}

TEST(PidReuse, CreationAfterThePidEndedIsANewProcess) {
    TraceBuilder b = first_holder_ended();
    b.created(kRoot, 5000, wire::CreateHow::kFork, kReused)
        .child_start(kReused, 5001, wire::CreateHow::kFork, kRoot)
        .exit(kReused, 5100, wire::ExitHow::kExit, 2)
        .wait_reaped(kRoot, 5200, wire::WaitCall::kWaitpid, kReused, exited_status(2));
    auto tree = built_tree(b);
    auto holders = all_with_pid(tree, kReused);
    ASSERT_EQ(holders.size(), 2u);
    EXPECT_EQ(holders[0]->exit.code, 1);
    EXPECT_EQ(holders[1]->exit.code, 2);
    EXPECT_EQ(holders[0]->start_ns, 1000u);
    EXPECT_EQ(holders[1]->start_ns, 4000u);
    EXPECT_EQ(child_pids(tree, only(tree, kRoot)), (std::vector<pid_t>{kReused, kReused}));
}

TEST(PidReuse, KernelForkAfterThePidEndedIsANewProcess) {
    TraceBuilder b = first_holder_ended();
    b.kernel_fork(kReused, 4999, kRoot).kernel_exit(kReused, 5100, exited_status(5));
    auto tree = built_tree(b);
    auto holders = all_with_pid(tree, kReused);
    ASSERT_EQ(holders.size(), 2u);
    EXPECT_EQ(holders[0]->exit.code, 1);
    EXPECT_EQ(holders[1]->exit.code, 5);
    EXPECT_TRUE(holders[1]->creation_seen_by_kernel);
}

TEST(PidReuse, NewHoldersChildStartStampedBeforeItsCreatedRecordIsTheNewHolders) {
    // Without kernel events: the child runs before the parent's fork() returns.
    TraceBuilder b = first_holder_ended();
    b.child_start(kReused, 5000, wire::CreateHow::kFork, kRoot)
        .created(kRoot, 5010, wire::CreateHow::kFork, kReused)
        .exit(kReused, 5100, wire::ExitHow::kExit, 2);
    auto tree = built_tree(b);
    auto holders = all_with_pid(tree, kReused);
    ASSERT_EQ(holders.size(), 2u);
    EXPECT_EQ(holders[0]->exit.code, 1);
    EXPECT_EQ(holders[1]->exit.code, 2);
    EXPECT_EQ(holders[1]->start_ns, 4000u);
    EXPECT_EQ(holders[1]->how, wire::CreateHow::kFork);
}

TEST(PidReuse, HelloFromAReapedPidIsANewProcess) {
    // posix_spawn: the new image says hello before posix_spawn returns in the parent.
    TraceBuilder b = first_holder_ended();
    b.hello(kReused, 5000, kRoot, "/bin/echo", {"echo", "hi"})
        .created(kRoot, 5010, wire::CreateHow::kPosixSpawn, kReused, {}, "/bin/echo",
                 {"echo", "hi"});
    auto tree = built_tree(b);
    auto holders = all_with_pid(tree, kReused);
    ASSERT_EQ(holders.size(), 2u);
    EXPECT_TRUE(tree.execs_of(*holders[0]).empty());
    ASSERT_EQ(tree.execs_of(*holders[1]).size(), 1u);
    EXPECT_EQ(tree.execs_of(*holders[1])[0].path, "/bin/echo");
    EXPECT_EQ(holders[1]->how, wire::CreateHow::kPosixSpawn);
    EXPECT_EQ(holders[1]->exit.kind, ExitStatus::Kind::kUnknown);
}

TEST(PidReuse, ChildIsLinkedToTheParentIncarnationAliveWhenItStarted) {
    // Pid 300 is held twice; only the second holder creates 400.
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .hello(kRoot, 1100, kCollector, "/bin/sh", {"sh"})
        .created(kRoot, 2000, wire::CreateHow::kFork, 300)
        .exit(300, 2100, wire::ExitHow::kExit, 0)
        .wait_reaped(kRoot, 2200, wire::WaitCall::kWaitpid, 300, exited_status(0))
        .created(kRoot, 3000, wire::CreateHow::kFork, 300)
        .created(300, 3100, wire::CreateHow::kFork, 400);
    auto tree = built_tree(b);
    auto holders = all_with_pid(tree, 300);
    ASSERT_EQ(holders.size(), 2u);
    EXPECT_TRUE(tree.children_of(*holders[0]).empty());
    EXPECT_EQ(child_pids(tree, *holders[1]), (std::vector<pid_t>{400}));
}

}  // namespace
}  // namespace cowtrace

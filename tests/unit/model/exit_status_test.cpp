// Which word on how a process ended is believed: the kernel's over a reaper's (the parent's
// wait or the collector as subreaper) over the process's own, whatever order they arrive in.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using model::ExitStatus;
using testing::built_tree;
using testing::exited_status;
using testing::kCollector;
using testing::kRoot;
using testing::only;
using testing::signaled_status;
using testing::TraceBuilder;

constexpr pid_t kChild = 200;

// Root forks kChild, which runs; the test adds how it ended.
TraceBuilder forked_child() {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .hello(kRoot, 1100, kCollector, "/bin/sh", {"sh"})
        .created(kRoot, 2000, wire::CreateHow::kFork, kChild)
        .child_start(kChild, 2001, wire::CreateHow::kFork, kRoot);
    return b;
}

TEST(ExitStatus, KernelStatusWinsOverParentAndSelf) {
    TraceBuilder b = forked_child();
    b.exit(kChild, 3000, wire::ExitHow::kExit, 3)
        .kernel_exit(kChild, 3001, signaled_status(SIGKILL))
        .wait_reaped(kRoot, 3002, wire::WaitCall::kWaitpid, kChild, exited_status(4));
    auto tree = built_tree(b);
    const auto& exit = only(tree, kChild).exit;
    EXPECT_EQ(exit.kind, ExitStatus::Kind::kSignal);
    EXPECT_EQ(exit.signal, SIGKILL);
    EXPECT_EQ(exit.source, model::ExitSource::kKernel);
}

TEST(ExitStatus, KernelStatusWinsWhateverOrderTheRecordsAreFiledIn) {
    TraceBuilder b = forked_child();
    b.exit(kChild, 3000, wire::ExitHow::kExit, 3)
        .kernel_exit(kChild, 3001, exited_status(9))
        .subreaper_reaped(kChild, 3002, exited_status(4));
    auto records = b.records();
    std::reverse(records.begin(), records.end());
    model::ProcessTree tree;
    model::build_process_tree_from(records, tree);
    const auto& exit = only(tree, kChild).exit;
    EXPECT_EQ(exit.kind, ExitStatus::Kind::kCode);
    EXPECT_EQ(exit.code, 9);
    EXPECT_EQ(exit.source, model::ExitSource::kKernel);
}

TEST(ExitStatus, ParentsWaitStatusWinsOverTheProcessesOwnWord) {
    // exit(3) was called, then a signal killed it during its atexit handlers.
    TraceBuilder b = forked_child();
    b.exit(kChild, 3000, wire::ExitHow::kExit, 3)
        .wait_reaped(kRoot, 3100, wire::WaitCall::kWaitpid, kChild, signaled_status(SIGTERM));
    auto tree = built_tree(b);
    const auto& exit = only(tree, kChild).exit;
    EXPECT_EQ(exit.kind, ExitStatus::Kind::kSignal);
    EXPECT_EQ(exit.signal, SIGTERM);
    EXPECT_EQ(exit.source, model::ExitSource::kParent);
}

TEST(ExitStatus, CollectorReapWinsOverTheProcessesOwnWord) {
    TraceBuilder b = forked_child();
    b.exit(kChild, 3000, wire::ExitHow::kExit, 0).subreaper_reaped(kChild, 3001, exited_status(1));
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, kChild).exit.code, 1);
    EXPECT_EQ(only(tree, kChild).exit.source, model::ExitSource::kCollector);
}

TEST(ExitStatus, OwnWordIsUsedWhenNothingElseIsHeard) {
    TraceBuilder b = forked_child();
    b.exit(kChild, 3000, wire::ExitHow::kUnderscoreExit, 7);
    auto tree = built_tree(b);
    const auto& child = only(tree, kChild);
    EXPECT_EQ(child.exit.kind, ExitStatus::Kind::kCode);
    EXPECT_EQ(child.exit.code, 7);
    EXPECT_EQ(child.exit.source, model::ExitSource::kSelf);
    ASSERT_TRUE(child.end_ns().has_value());
    EXPECT_EQ(*child.end_ns(), 2000u);
}

TEST(ExitStatus, OwnExitCodeKeepsOnlyTheLowByteAsWaitWould) {
    TraceBuilder b = forked_child();
    b.exit(kChild, 3000, wire::ExitHow::kExit, 256 + 3);
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, kChild).exit.code, 3);
}

TEST(ExitStatus, AbortIsReportedAsSigabrt) {
    TraceBuilder b = forked_child();
    b.exit(kChild, 3000, wire::ExitHow::kAbort, 0);
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, kChild).exit.kind, ExitStatus::Kind::kSignal);
    EXPECT_EQ(only(tree, kChild).exit.signal, SIGABRT);
}

TEST(ExitStatus, CoreDumpIsKept) {
    TraceBuilder b = forked_child();
    b.kernel_exit(kChild, 3000, signaled_status(SIGSEGV, true));
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, kChild).exit.signal, SIGSEGV);
    EXPECT_TRUE(only(tree, kChild).exit.core);
}

TEST(ExitStatus, EndTimeIsTheKernelsWhenKnown) {
    TraceBuilder b = forked_child();
    b.exit(kChild, 3000, wire::ExitHow::kExit, 0)
        .kernel_exit(kChild, 3050, exited_status(0))
        .wait_reaped(kRoot, 3100, wire::WaitCall::kWaitpid, kChild, exited_status(0));
    auto tree = built_tree(b);
    ASSERT_TRUE(only(tree, kChild).end_ns().has_value());
    EXPECT_EQ(*only(tree, kChild).end_ns(), 2050u);
}

TEST(ExitStatus, WaitForAnUnknownChildIsIgnored) {
    TraceBuilder b = forked_child();
    b.wait_reaped(kRoot, 3000, wire::WaitCall::kSystem, -1, exited_status(0));
    auto tree = built_tree(b);
    EXPECT_EQ(tree.processes.size(), 2u);
    EXPECT_EQ(only(tree, kChild).exit.kind, ExitStatus::Kind::kUnknown);
}

}  // namespace
}  // namespace cowtrace

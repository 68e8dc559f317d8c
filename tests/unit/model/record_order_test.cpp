// Records of different processes reach the collector in any order; what they say is put in
// time order, so the tree does not depend on the order of the file.
#include <gtest/gtest.h>

#include <algorithm>

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

// sh forks a subshell that runs ls.
TraceBuilder shell_runs_ls() {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1010)
        .hello(kRoot, 1100, kCollector, "/bin/sh", {"sh", "-c", "(ls)"})
        .created(kRoot, 2000, wire::CreateHow::kFork, 200, {0x401000})
        .child_start(200, 2001, wire::CreateHow::kFork, kRoot)
        .exec_attempt(200, 2100, "ls", {"ls"}, "/usr/bin/ls")
        .hello(200, 2200, kRoot, "/usr/bin/ls", {"ls"})
        .exit(200, 2300, wire::ExitHow::kExit, 0)
        .kernel_exit(200, 2301, exited_status(0))
        .wait_reaped(kRoot, 2400, wire::WaitCall::kWaitpid, 200, exited_status(0))
        .kernel_exit(kRoot, 2500, exited_status(0))
        .trace_end(kCollector, 2600, exited_status(0));
    return b;
}

// The parts of a tree that must not depend on record order.
struct Shape {
    pid_t pid;
    pid_t ppid;
    uint64_t start_ns;
    wire::CreateHow how;
    size_t execs;
    int code;
    std::vector<pid_t> children;
    bool operator==(const Shape&) const = default;
};

std::vector<Shape> shape_of(const model::ProcessTree& tree) {
    std::vector<Shape> out;
    for (const auto& p : tree.processes) {
        out.push_back({p.pid, p.ppid, p.start_ns, p.how, tree.execs_of(p).size(), p.exit.code,
                       testing::child_pids(tree, p)});
    }
    std::sort(out.begin(), out.end(), [](const Shape& a, const Shape& b) { return a.pid < b.pid; });
    return out;
}

TEST(RecordOrder, ReversedFileOrderBuildsTheSameTree) {
    TraceBuilder b = shell_runs_ls();
    auto records = b.records();
    model::ProcessTree in_order, reversed;
    model::build_process_tree_from(records, in_order);
    std::reverse(records.begin(), records.end());
    model::build_process_tree_from(records, reversed);
    EXPECT_EQ(shape_of(reversed), shape_of(in_order));
    EXPECT_EQ(in_order.processes.size(), 2u);
}

TEST(RecordOrder, TimesAreRelativeToTheTraceStartWhereverItIsInTheFile) {
    TraceBuilder b = shell_runs_ls();
    auto records = b.records();
    std::rotate(records.begin(), records.begin() + 1, records.end());  // trace start last
    model::ProcessTree tree;
    model::build_process_tree_from(records, tree);
    EXPECT_EQ(tree.t0_ns, 1000u);
    EXPECT_EQ(only(tree, kRoot).start_ns, 10u);
    EXPECT_EQ(only(tree, 200).start_ns, 1000u);
    EXPECT_EQ(tree.end_ns, 1600u);
}

TEST(RecordOrder, ChildThatEndsBeforeItsParentsCreatedRecordIsOneProcess) {
    // On two cores a child can run to _exit before fork() returns in the parent.
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .hello(kRoot, 1100, kCollector, "/bin/app", {"app"})
        .kernel_fork(200, 1999, kRoot)
        .child_start(200, 2001, wire::CreateHow::kFork, kRoot)
        .exit(200, 2002, wire::ExitHow::kUnderscoreExit, 3)
        .kernel_exit(200, 2003, exited_status(3))
        .created(kRoot, 2010, wire::CreateHow::kFork, 200, {0x401000})
        .wait_reaped(kRoot, 2020, wire::WaitCall::kWaitpid, 200, exited_status(3));
    auto tree = built_tree(b);
    const auto& child = only(tree, 200);
    EXPECT_EQ(child.how, wire::CreateHow::kFork);
    EXPECT_EQ(child.call_site, (std::vector<uint64_t>{0x401000}));
    EXPECT_EQ(child.exit.code, 3);
    EXPECT_EQ(child.exit.source, model::ExitSource::kKernel);
    EXPECT_FALSE(child.still_running);
    EXPECT_EQ(child_pids(tree, only(tree, kRoot)), (std::vector<pid_t>{200}));
}

TEST(RecordOrder, ChildThatEndsBeforeItsParentsCreatedRecordIsOneProcessWithoutKernelEvents) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .hello(kRoot, 1100, kCollector, "/bin/app", {"app"})
        .child_start(200, 2001, wire::CreateHow::kFork, kRoot)
        .exit(200, 2002, wire::ExitHow::kUnderscoreExit, 3)
        .created(kRoot, 2010, wire::CreateHow::kFork, 200)
        .wait_reaped(kRoot, 2020, wire::WaitCall::kWaitpid, 200, exited_status(3));
    auto tree = built_tree(b);
    const auto& child = only(tree, 200);
    EXPECT_TRUE(child.shim_loaded);
    EXPECT_EQ(child.exit.source, model::ExitSource::kParent);
    EXPECT_EQ(child.start_ns, 1001u);
}

TEST(RecordOrder, ChildWhoseParentIsHeardOfOnlyLaterIsStillLinked) {
    // The parent's first record is stamped after its child's (it was busy): the child is
    // linked to it all the same.
    TraceBuilder b;
    b.trace_start(kCollector, 0, 1000, 1000)
        .child_start(301, 2000, wire::CreateHow::kFork, 300)
        .exit(300, 3000, wire::ExitHow::kExit, 0);
    auto tree = built_tree(b);
    EXPECT_EQ(child_pids(tree, only(tree, 300)), (std::vector<pid_t>{301}));
}

}  // namespace
}  // namespace cowtrace

// `cowtrace attach`: the processes running at the attach (ProcessCarried), their forks, execs
// and exits from the kernel's events only, the exec'd command line read from /proc. The tree
// is one seen from outside: no process is flagged for what no library could have seen.
#include <gtest/gtest.h>

#include <algorithm>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using testing::built_tree;
using testing::kCollector;
using testing::only;
using testing::TraceBuilder;

constexpr pid_t kShell = 300;
constexpr pid_t kChild = 301;

bool has(const std::vector<model::Limitation>& flags, model::Limitation l) {
    return std::find(flags.begin(), flags.end(), l) != flags.end();
}

TraceBuilder attached_shell() {
    std::vector<std::string> shell_argv = {"/bin/bash", "-c", "work"};
    std::vector<const char*> shell_ptrs = {shell_argv[0].c_str(), shell_argv[1].c_str(),
                                           shell_argv[2].c_str(), nullptr};
    TraceBuilder b;
    wire::TraceStart start;
    start.collector_pid = kCollector;
    start.root_pid = kShell;
    start.census_mode = "exact";
    start.features = wire::kFeatureOutsideBaseline | wire::kFeatureAttached;
    b.add(start, kCollector, 5000);
    wire::ProcessCarried shell;
    shell.creator = 1;
    shell.start_t_ns = 1000;
    shell.execfn = "/usr/bin/bash";
    shell.argv = wire::TextList::of_array(shell_ptrs.data());
    b.add(shell, kShell, 5000);
    b.kernel_fork(kChild, 6000, kShell);
    std::vector<std::string> argv = {"/usr/bin/cow_writer", "--share", "64"};
    std::vector<const char*> ptrs = {argv[0].c_str(), argv[1].c_str(), argv[2].c_str(), nullptr};
    wire::KernelExec exec;
    exec.thread = kChild;
    exec.execfn = "/usr/bin/cow_writer";
    exec.argv = wire::TextList::of_array(ptrs.data());
    b.add(exec, kChild, 6500);
    b.kernel_exit(kChild, 8000, 0);
    b.kernel_exit(kShell, 9000, 3 << 8);
    b.trace_end(kCollector, 9500, -1);
    return b;
}

TEST(AttachedTrace, TheExecIsNamedFromTheCommandLineReadFromProc) {
    auto tree = built_tree(attached_shell());
    EXPECT_TRUE(tree.attached);
    const model::Process& child = only(tree, kChild);
    EXPECT_EQ(child.ppid, kShell);
    ASSERT_EQ(tree.execs_of(child).size(), 1u);
    EXPECT_TRUE(tree.execs_of(child)[0].ok);
    EXPECT_EQ(tree.execs_of(child)[0].path, "/usr/bin/cow_writer");
    EXPECT_EQ(tree.execs_of(child)[0].argv,
              (std::vector<std::string>{"/usr/bin/cow_writer", "--share", "64"}));
}

TEST(AttachedTrace, OnlyWhatWasRunningAtTheAttachIsFlagged) {
    auto tree = built_tree(attached_shell());
    auto shell = model::limitations_of(tree, only(tree, kShell));
    auto child = model::limitations_of(tree, only(tree, kChild));
    EXPECT_TRUE(has(shell, model::Limitation::kRunningAtAttach));
    EXPECT_FALSE(has(shell, model::Limitation::kCarriedOver));
    EXPECT_FALSE(has(child, model::Limitation::kRunningAtAttach));
    for (const auto& flags : {shell, child}) {
        EXPECT_FALSE(has(flags, model::Limitation::kUntracedCreation));
        EXPECT_FALSE(has(flags, model::Limitation::kNotInstrumented));
    }
    EXPECT_EQ(model::limitation_id(model::Limitation::kRunningAtAttach), "running_at_attach");
}

TEST(AttachedTrace, AKernelExecWithoutACommandLineKeepsTheLibrarysWord) {
    // A run (not attach) writes KernelExec with its thread only: as before.
    TraceBuilder b = testing::traced_root();
    b.kernel_exec(testing::kRoot, 2000);
    auto tree = built_tree(b);
    const model::Process& root = only(tree, testing::kRoot);
    ASSERT_FALSE(tree.execs_of(root).empty());
    EXPECT_TRUE(tree.execs_of(root).back().argv.empty());
    EXPECT_FALSE(tree.attached);
}

TEST(AttachedTrace, AnEndFoundByPollingHasItsTimeButNoStatus) {
    // Attach without the proc connector found the child gone after its reaping.
    TraceBuilder b = attached_shell();
    constexpr pid_t kPolled = 302;
    b.kernel_fork(kPolled, 7000, kShell);
    wire::KernelExit exit;
    exit.status_unknown = true;
    b.add(exit, kPolled, 8500);
    auto tree = built_tree(b);
    const model::Process& polled = only(tree, kPolled);
    ASSERT_TRUE(polled.end_ns().has_value());
    EXPECT_EQ(*polled.end_ns(), 8500u - 5000u);
    EXPECT_EQ(polled.exit.kind, model::ExitStatus::Kind::kUnknown);
    EXPECT_FALSE(polled.still_running);
}

TEST(AttachedTrace, AForkUnderWayAtTheAttachIsFlagged) {
    TraceBuilder b = attached_shell();
    constexpr pid_t kUnderWay = 303;
    wire::ProcessCarried carried;
    carried.creator = kShell;
    carried.start_t_ns = 2000;  // before the attach
    b.add(carried, kUnderWay, 5000);
    wire::EpisodeStart start;
    start.parent = kShell;
    start.fork_t_ns = 2000;
    start.mode = "exact";
    start.split_known = true;
    start.shared_bytes = 64 << 20;
    start.baseline_t_ns = 5100;
    start.under_way_at_attach = true;
    b.add(start, kUnderWay, 5100);
    auto tree = built_tree(b);
    ASSERT_EQ(tree.episodes.size(), 1u);
    const model::ForkEpisode& e = tree.episodes[0];
    EXPECT_EQ(e.child, kUnderWay);
    EXPECT_TRUE(e.under_way_at_attach);
    EXPECT_EQ(e.t_ns, 0u);  // began before the trace: at its start
}

}  // namespace
}  // namespace cowtrace

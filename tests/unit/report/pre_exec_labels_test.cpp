// A process that forks helpers and then execs: the helpers ran the program it ran when it forked
// them, not the one it exec'd later (a wrapper script and its server).
#include <gtest/gtest.h>

#include "report/call_sites.hpp"
#include "report/process_labels.hpp"
#include "tree_fixture.hpp"

namespace cowtrace::report {
namespace {

using testing::kMs;
using testing::TreeFixture;

model::ExecEvent exec_at(uint64_t t_ns, std::string path, model::CommandLine argv) {
    model::ExecEvent e;
    e.t_ns = t_ns;
    e.ok = e.resolved = e.confirmed = true;
    e.path = std::move(path);
    e.argv = std::move(argv);
    return e;
}

// bash -c 'v=$(redis-server --version); exec redis-server': the root's first image is bash
// (its hello), its second redis-server; one helper forked before the exec, one child after.
struct WrapperTree {
    TreeFixture f;
    size_t root, helper, server_child;
    WrapperTree() {
        root = f.root(100, {"bash", "-c", "v=$(redis-server --version); exec redis-server"});
        f.tree.processes[root].execs = f.tree.process_execs.keep(
            {exec_at(1 * kMs, "/usr/bin/bash", f.tree.processes[root].argv),
             exec_at(50 * kMs, "/usr/bin/redis-server", {"redis-server", "--save", ""})});
        helper = f.child(root, 101, 10 * kMs, 20 * kMs);
        server_child = f.child(root, 102, 300 * kMs, 400 * kMs);
    }
};

TEST(PreExecLabels, AHelperForkedBeforeTheExecIsNamedAfterTheWrapper) {
    WrapperTree w;
    ProcessLabels labels(w.f.tree);
    EXPECT_EQ(labels.name(w.root), "redis-server");
    EXPECT_EQ(labels.name(w.helper), "bash");
    EXPECT_EQ(labels.command_line(w.helper),
              "bash -c 'v=$(redis-server --version); exec redis-server'");
    EXPECT_EQ(labels.name(w.server_child), "redis-server");
    EXPECT_EQ(labels.command_line(w.server_child), "redis-server --save ''");
}

TEST(PreExecLabels, AHelperOfAForkedChildThatExecsLaterIsNamedAfterTheChildsParent) {
    WrapperTree w;
    // The helper forks its own helper, then execs redis-cli.
    size_t grandchild = w.f.child(w.helper, 103, 12 * kMs, 13 * kMs);
    w.f.tree.processes[w.helper].execs = w.f.tree.process_execs.keep(
        {exec_at(15 * kMs, "/usr/bin/redis-cli", {"redis-cli", "ping"})});
    ProcessLabels labels(w.f.tree);
    EXPECT_EQ(labels.name(w.helper), "redis-cli");
    EXPECT_EQ(labels.name(grandchild), "bash") << "forked before its parent's exec";
}

TEST(PreExecLabels, ForkCallSitesNameTheProgramThatForked) {
    WrapperTree w;
    w.f.episode(w.helper, 1 << 20, 1 << 16, 1 << 16);
    w.f.episode(w.server_child, 1 << 20, 1 << 18, 1 << 18);
    ProcessLabels labels(w.f.tree);
    std::vector<std::string> programs;
    for (const auto& site : fork_call_sites(w.f.tree, labels)) programs.push_back(site.program);
    EXPECT_EQ(programs, (std::vector<std::string>{"redis-server", "bash"}));
}

}  // namespace
}  // namespace cowtrace::report

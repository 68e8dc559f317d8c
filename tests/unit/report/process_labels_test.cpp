#include "report/process_labels.hpp"

#include <gtest/gtest.h>

#include "tree_fixture.hpp"

namespace cowtrace::report {
namespace {

using testing::kMs;
using testing::TreeFixture;

TEST(ProcessLabels, AForkedChildIsNamedAfterItsCreatorsProgram) {
    TreeFixture f;
    size_t root = f.root(100, {"/usr/bin/redis-server", "*:6379"});
    size_t c = f.child(root, 101, 10 * kMs, 20 * kMs);
    ProcessLabels labels(f.tree);
    EXPECT_EQ(labels.name(c), "redis-server");
    EXPECT_EQ(labels.command_line(c), "/usr/bin/redis-server '*:6379'")
        << "quoted like a shell would need";
    EXPECT_EQ(labels.creator(c), root);
    EXPECT_EQ(labels.creator(root), std::nullopt);
}

TEST(ProcessLabels, CommandLinesAreQuotedSoTheyCanBePastedIntoAShell) {
    TreeFixture f;
    size_t root = f.root(100, {"sh", "-c", "echo it's", "", "a|b"});
    EXPECT_EQ(ProcessLabels(f.tree).command_line(root), "sh -c 'echo it'\\''s' '' 'a|b'");
}

TEST(ProcessLabels, TheLastSuccessfulExecWins) {
    TreeFixture f;
    size_t root = f.root(100, {"sh"});
    size_t c = f.child(root, 101, 10 * kMs, 20 * kMs);
    model::ExecEvent failed, ok;
    failed.path = "/nope/gzip";
    failed.argv = {"gzip"};
    ok.ok = true;
    ok.path = "/usr/bin/gzip";
    ok.argv = {"gzip", "-9"};
    f.tree.processes[c].execs = f.tree.process_execs.keep({ok, failed});
    ProcessLabels labels(f.tree);
    EXPECT_EQ(labels.name(c), "gzip");
    EXPECT_EQ(labels.command_line(c), "gzip -9");
    EXPECT_EQ(argument_text(f.tree, f.tree.processes[c]), " -9");
}

TEST(ProcessLabels, ADamagedTreeThatLoopsStillGetsAName) {
    TreeFixture f;
    size_t a = f.root(100, {});
    size_t b = f.child(a, 101, 10 * kMs, 20 * kMs);
    f.add_child(b, a);  // a loop no real trace has
    ProcessLabels labels(f.tree);
    EXPECT_EQ(labels.name(a), "?");
    EXPECT_EQ(labels.command_line(b), "?");
}

}  // namespace
}  // namespace cowtrace::report

// How the builder decides what an exec did: an attempt is a failure when the shim reports the
// error, a success when the new image says hello or the kernel reports the exec, and assumed a
// success (unconfirmed) when nothing else is heard.
#include <gtest/gtest.h>

#include <cerrno>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using testing::built_tree;
using testing::kCollector;
using testing::kRoot;
using testing::only;
using testing::TraceBuilder;
using testing::traced_root;

TEST(ExecOutcome, ExecFailureIsRecordedWithErrno) {
    TraceBuilder b = traced_root();
    b.exec_attempt(kRoot, 2000, "/nonexistent", {"nonexistent"}).exec_failed(kRoot, 2001, ENOENT);
    auto tree = built_tree(b);
    const auto& execs = tree.execs_of(only(tree, kRoot));
    ASSERT_EQ(execs.size(), 2u);
    EXPECT_FALSE(execs[1].ok);
    EXPECT_EQ(execs[1].error, ENOENT);
    EXPECT_EQ(execs[1].path, "/nonexistent");
    EXPECT_TRUE(execs[1].resolved);
}

TEST(ExecOutcome, ExecSuccessIsConfirmedByTheNewImagesHello) {
    TraceBuilder b = traced_root();
    b.exec_attempt(kRoot, 2000, "ls", {"ls", "-l"}, "/usr/bin/ls")
        .hello(kRoot, 2100, kCollector, "/usr/bin/ls", {"ls", "-l"});
    auto tree = built_tree(b);
    const auto& execs = tree.execs_of(only(tree, kRoot));
    ASSERT_EQ(execs.size(), 2u);
    EXPECT_TRUE(execs[1].ok);
    EXPECT_TRUE(execs[1].confirmed);
    EXPECT_EQ(execs[1].path, "/usr/bin/ls");
    EXPECT_EQ(execs[1].requested_path, "ls");
    EXPECT_EQ(execs[1].argv, (std::vector<std::string>{"ls", "-l"}));
    EXPECT_EQ(execs[1].t_ns, 1000u);  // the attempt's time, relative to the trace start
}

TEST(ExecOutcome, ExecOfAStaticImageIsConfirmedByTheKernel) {
    TraceBuilder b = traced_root();
    b.exec_attempt(kRoot, 2000, "/bin/busybox", {"busybox"})
        .image_facts(kRoot, 2000, wire::kImageStatic, "/bin/busybox")
        .kernel_exec(kRoot, 2001);
    auto tree = built_tree(b);
    const auto& execs = tree.execs_of(only(tree, kRoot));
    ASSERT_EQ(execs.size(), 2u);
    EXPECT_TRUE(execs[1].ok);
    EXPECT_TRUE(execs[1].confirmed);
    EXPECT_TRUE(execs[1].image.static_binary);
    EXPECT_FALSE(execs[1].image.setid);
}

TEST(ExecOutcome, ImageFactsLandOnTheAttemptTheyAnswer) {
    TraceBuilder b = traced_root();
    b.exec_attempt(kRoot, 2000, "/nope", {"nope"})
        .image_facts(kRoot, 2000, wire::kImageUnreadable, "/nope")
        .exec_failed(kRoot, 2001, 2)
        .exec_attempt(kRoot, 2100, "/usr/bin/passwd", {"passwd"})
        .image_facts(kRoot, 2100, wire::kImageSetid, "/usr/bin/passwd")
        .kernel_exec(kRoot, 2101);
    auto tree = built_tree(b);
    const auto& execs = tree.execs_of(only(tree, kRoot));
    ASSERT_EQ(execs.size(), 3u);
    EXPECT_TRUE(execs[1].image.unreadable);
    EXPECT_FALSE(execs[1].image.setid);
    EXPECT_TRUE(execs[2].image.setid);
    EXPECT_FALSE(execs[2].image.unreadable);
}

TEST(ExecOutcome, StaticImageFlaggedByAnOlderLibraryStillCounts) {
    // Before the collector inspected exec targets, the library sent the flags itself.
    TraceBuilder b = traced_root();
    b.exec_attempt(kRoot, 2000, "/bin/busybox", {"busybox"}, "", wire::kImageStatic)
        .kernel_exec(kRoot, 2001);
    auto tree = built_tree(b);
    const auto& execs = tree.execs_of(only(tree, kRoot));
    ASSERT_EQ(execs.size(), 2u);
    EXPECT_TRUE(execs[1].image.static_binary);
}

TEST(ExecOutcome, ExecWithNoOutcomeHeardIsAssumedSuccessfulButUnconfirmed) {
    TraceBuilder b = traced_root();
    b.exec_attempt(kRoot, 2000, "/usr/bin/passwd", {"passwd"}, "", wire::kImageSetid);
    auto tree = built_tree(b);
    const auto& execs = tree.execs_of(only(tree, kRoot));
    ASSERT_EQ(execs.size(), 2u);
    EXPECT_TRUE(execs[1].ok);
    EXPECT_TRUE(execs[1].resolved);
    EXPECT_FALSE(execs[1].confirmed);
}

TEST(ExecOutcome, FailedThenSuccessfulAttemptsAreTwoExecs) {
    // execvp walking PATH: the first candidate fails, the second runs.
    TraceBuilder b = traced_root();
    b.exec_attempt(kRoot, 2000, "/usr/local/bin/tool", {"tool"})
        .exec_failed(kRoot, 2001, ENOENT)
        .exec_attempt(kRoot, 2002, "/usr/bin/tool", {"tool"})
        .kernel_exec(kRoot, 2003)
        .hello(kRoot, 2100, kCollector, "/usr/bin/tool", {"tool"});
    auto tree = built_tree(b);
    const auto& execs = tree.execs_of(only(tree, kRoot));
    ASSERT_EQ(execs.size(), 3u);
    EXPECT_FALSE(execs[1].ok);
    EXPECT_TRUE(execs[2].ok);
    EXPECT_TRUE(execs[2].confirmed);
    EXPECT_EQ(execs[2].path, "/usr/bin/tool");
}

TEST(ExecOutcome, KernelExecFollowedByHelloIsOneExec) {
    // An exec the shim did not see (a raw syscall): the kernel reports it, the image says hello.
    TraceBuilder b = traced_root();
    b.kernel_exec(kRoot, 2000).hello(kRoot, 2100, kCollector, "/usr/bin/env", {"env"});
    auto tree = built_tree(b);
    const auto& execs = tree.execs_of(only(tree, kRoot));
    ASSERT_EQ(execs.size(), 2u);
    EXPECT_TRUE(execs[1].confirmed);
    EXPECT_EQ(execs[1].path, "/usr/bin/env");
}

TEST(ExecOutcome, FailureAfterTheOutcomeIsKnownDoesNotRewriteIt) {
    TraceBuilder b = traced_root();
    b.exec_attempt(kRoot, 2000, "/bin/true", {"true"})
        .kernel_exec(kRoot, 2001)
        .exec_failed(kRoot, 2002, EACCES);
    auto tree = built_tree(b);
    const auto& execs = tree.execs_of(only(tree, kRoot));
    ASSERT_EQ(execs.size(), 2u);
    EXPECT_TRUE(execs[1].ok);
    EXPECT_EQ(execs[1].error, 0);
}

TEST(ExecOutcome, ExecFailureInAVforkChildIsTheChilds) {
    TraceBuilder b = traced_root();
    b.spawn_begin(kRoot, 2000, wire::CreateHow::kVfork, 1)
        .child_start(200, 2001, wire::CreateHow::kVfork, kRoot, 1, wire::kFromVforkChild)
        .exec_attempt(200, 2002, "/missing", {"missing"}, "", 0, wire::kFromVforkChild)
        .exec_failed(200, 2003, ENOENT, wire::kFromVforkChild)
        .exit(200, 2004, wire::ExitHow::kUnderscoreExit, 127, wire::kFromVforkChild);
    auto tree = built_tree(b);
    const auto& child = only(tree, 200);
    ASSERT_EQ(tree.execs_of(child).size(), 1u);
    EXPECT_FALSE(tree.execs_of(child)[0].ok);
    EXPECT_EQ(tree.execs_of(child)[0].error, ENOENT);
    EXPECT_EQ(tree.execs_of(only(tree, kRoot)).size(), 1u);
}

}  // namespace
}  // namespace cowtrace

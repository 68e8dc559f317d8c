// Children whose creator cannot name them: a vfork child is tied to its parent's SpawnBegin by
// a token; a system()/popen() child is the next child of that parent to say hello.
#include <gtest/gtest.h>

#include <cerrno>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using testing::built_tree;
using testing::child_pids;
using testing::kCollector;
using testing::kRoot;
using testing::only;
using testing::TraceBuilder;

TraceBuilder traced_root() {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .hello(kRoot, 1100, kCollector, "/usr/bin/python3", {"python3"});
    return b;
}

TEST(UnnamedChild, VforkChildIsLinkedToItsSpawnBeginByToken) {
    TraceBuilder b = traced_root();
    b.spawn_begin(kRoot, 2000, wire::CreateHow::kVfork, 5, {0xabc, 0xdef})
        .child_start(200, 2001, wire::CreateHow::kVfork, kRoot, 5, wire::kFromVforkChild)
        .exec_attempt(200, 2002, "/bin/ls", {"ls"}, "", 0, wire::kFromVforkChild)
        .hello(200, 2100, kRoot, "/bin/ls", {"ls"});
    auto tree = built_tree(b);
    const auto& child = only(tree, 200);
    EXPECT_EQ(child.how, wire::CreateHow::kVfork);
    EXPECT_EQ(child.ppid, kRoot);
    EXPECT_EQ(child.call_site, (std::vector<uint64_t>{0xabc, 0xdef}));
    EXPECT_TRUE(child.creation_seen_by_shim);
    EXPECT_EQ(child.start_ns, 1000u);  // the vfork, not the child's first record
    ASSERT_EQ(tree.execs_of(child).size(), 1u);
    EXPECT_TRUE(tree.execs_of(child)[0].confirmed);
    EXPECT_EQ(child_pids(tree, only(tree, kRoot)), (std::vector<pid_t>{200}));
}

TEST(UnnamedChild, VforkChildTakesTheCallSiteOfItsOwnToken) {
    TraceBuilder b = traced_root();
    b.spawn_begin(kRoot, 2000, wire::CreateHow::kVfork, 5, {0x5})
        .child_start(200, 2001, wire::CreateHow::kVfork, kRoot, 5, wire::kFromVforkChild)
        .spawn_begin(kRoot, 3000, wire::CreateHow::kVfork, 6, {0x6})
        .child_start(201, 3001, wire::CreateHow::kVfork, kRoot, 6, wire::kFromVforkChild);
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, 200).call_site, (std::vector<uint64_t>{0x5}));
    EXPECT_EQ(only(tree, 201).call_site, (std::vector<uint64_t>{0x6}));
}

TEST(UnnamedChild, SystemChildIsMatchedToItsSpawnBegin) {
    TraceBuilder b = traced_root();
    b.spawn_begin(kRoot, 2000, wire::CreateHow::kSystem, 9, {0x111})
        .hello(200, 2050, kRoot, "/bin/sh", {"sh", "-c", "true"});
    auto tree = built_tree(b);
    const auto& child = only(tree, 200);
    EXPECT_EQ(child.how, wire::CreateHow::kSystem);
    EXPECT_EQ(child.call_site, (std::vector<uint64_t>{0x111}));
    EXPECT_EQ(child.ppid, kRoot);
    EXPECT_TRUE(child.creation_seen_by_shim);
}

TEST(UnnamedChild, PopenChildrenAreMatchedInTheOrderOfTheirSpawnBegins) {
    TraceBuilder b = traced_root();
    b.spawn_begin(kRoot, 2000, wire::CreateHow::kPopen, 1, {0x1})
        .hello(200, 2050, kRoot, "/bin/sh", {"sh", "-c", "date"})
        .spawn_begin(kRoot, 3000, wire::CreateHow::kPopen, 2, {0x2})
        .hello(201, 3050, kRoot, "/bin/sh", {"sh", "-c", "uname"});
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, 200).how, wire::CreateHow::kPopen);
    EXPECT_EQ(only(tree, 200).call_site, (std::vector<uint64_t>{0x1}));
    EXPECT_EQ(only(tree, 201).call_site, (std::vector<uint64_t>{0x2}));
}

TEST(UnnamedChild, SpawnBeginAfterTheChildStartedIsNotClaimed) {
    TraceBuilder b = traced_root();
    b.hello(200, 2000, kRoot, "/bin/sh", {"sh"})
        .spawn_begin(kRoot, 3000, wire::CreateHow::kSystem, 1, {0x1});
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, 200).how, wire::CreateHow::kUnknown);
    EXPECT_FALSE(only(tree, 200).creation_seen_by_shim);
}

TEST(UnnamedChild, ChildOfAnotherParentDoesNotClaimTheSpawnBegin) {
    TraceBuilder b = traced_root();
    b.spawn_begin(kRoot, 2000, wire::CreateHow::kSystem, 1, {0x1})
        .hello(300, 2050, 999, "/bin/sh", {"sh"})
        .hello(200, 2060, kRoot, "/bin/sh", {"sh"});
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, 300).how, wire::CreateHow::kUnknown);
    EXPECT_EQ(only(tree, 200).how, wire::CreateHow::kSystem);
}

TEST(UnnamedChild, PosixSpawnChildThatNeverSaysHelloGetsTheSpawnedPathAndArgv) {
    // A static target: the library never loads in it; the caller's record is all we have.
    TraceBuilder b = traced_root();
    b.created(kRoot, 2000, wire::CreateHow::kPosixSpawn, 200, {}, "/bin/busybox",
              {"busybox", "true"});
    auto tree = built_tree(b);
    const auto& child = only(tree, 200);
    ASSERT_EQ(tree.execs_of(child).size(), 1u);
    EXPECT_EQ(tree.execs_of(child)[0].path, "/bin/busybox");
    EXPECT_EQ(tree.execs_of(child)[0].argv, (std::vector<std::string>{"busybox", "true"}));
    EXPECT_FALSE(child.shim_loaded);
}

// posix_spawn returns the error of a failed exec, never the pid of the child that failed it:
// only the kernel saw that child, created by the same thread.
TEST(UnnamedChild, ChildOfAFailedPosixSpawnIsTheKernelsChildOfTheCallingThread) {
    TraceBuilder b = traced_root();
    b.kernel_fork(200, 2000, kRoot)
        .kernel_exit(200, 2100, 127 << 8)
        .created(kRoot, 2200, wire::CreateHow::kPosixSpawn, -1, {0x1}, "/nonexistent", {"x"},
                 ENOENT);
    auto tree = built_tree(b);
    const auto& child = only(tree, 200);
    EXPECT_EQ(child.how, wire::CreateHow::kPosixSpawn);
    EXPECT_TRUE(child.creation_seen_by_shim);
    EXPECT_EQ(child.call_site, (std::vector<uint64_t>{0x1}));
    ASSERT_EQ(tree.execs_of(child).size(), 1u);
    EXPECT_FALSE(tree.execs_of(child)[0].ok);
    EXPECT_EQ(tree.execs_of(child)[0].error, ENOENT);
    EXPECT_EQ(tree.execs_of(child)[0].path, "/nonexistent");
}

TEST(UnnamedChild, FailedPosixSpawnDoesNotClaimAChildTheLibrarySawBeingCreated) {
    TraceBuilder b = traced_root();
    b.kernel_fork(200, 2000, kRoot)
        .child_start(200, 2001, wire::CreateHow::kFork, kRoot)
        .created(kRoot, 2200, wire::CreateHow::kPosixSpawn, -1, {}, "/nonexistent", {"x"}, ENOENT);
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, 200).how, wire::CreateHow::kFork);
    EXPECT_TRUE(tree.execs_of(only(tree, 200)).empty());
}

}  // namespace
}  // namespace cowtrace

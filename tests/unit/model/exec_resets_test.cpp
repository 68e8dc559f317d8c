// What an exec resets in the model: a system()/popen() begin the old image made and no child
// claimed (its shell never said hello: static, or killed) belongs to that image; a child of the
// new image must not take its call site.
#include <gtest/gtest.h>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using testing::built_tree;
using testing::kCollector;
using testing::kRoot;
using testing::only;
using testing::TraceBuilder;

TEST(ExecResets, ABeginOfTheOldImageIsNotClaimedByAChildOfTheNewOne) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .hello(kRoot, 1100, kCollector, "/usr/bin/python3", {"python3"})
        // python3 runs system(): its shell (pid 200) never says hello.
        .spawn_begin(kRoot, 2000, wire::CreateHow::kSystem, 0, {0x01d})
        .kernel_fork(200, 2001, kRoot)
        .kernel_exit(200, 2500, 0)
        // python3 execs bash, which runs system() in turn: its shell (pid 201) says hello.
        .exec_attempt(kRoot, 3000, "/bin/bash", {"bash"})
        .hello(kRoot, 3100, kCollector, "/bin/bash", {"bash"})
        .spawn_begin(kRoot, 4000, wire::CreateHow::kSystem, 0, {0x2e2})
        .hello(201, 4050, kRoot, "/bin/sh", {"sh", "-c", "true"});
    auto tree = built_tree(b);
    const auto& child = only(tree, 201);
    EXPECT_EQ(child.how, wire::CreateHow::kSystem);
    EXPECT_EQ(child.call_site, (std::vector<uint64_t>{0x2e2}))
        << "the new image's own system() call, not the old image's";
}

TEST(ExecResets, ABeginOfTheSameImageIsStillClaimed) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .hello(kRoot, 1100, kCollector, "/bin/bash", {"bash"})
        .spawn_begin(kRoot, 2000, wire::CreateHow::kPopen, 0, {0x3f3})
        .hello(201, 2050, kRoot, "/bin/sh", {"sh", "-c", "ls"});
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, 201).call_site, (std::vector<uint64_t>{0x3f3}));
}

}  // namespace
}  // namespace cowtrace

// Parent links must form a forest: renderers walk it from the roots, so a process caught in a
// cycle of links (recycled pids, a damaged trace) would vanish from the report or never end.
#include <gtest/gtest.h>

#include <set>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using testing::built_tree;
using testing::kCollector;
using testing::only;
using testing::TraceBuilder;

// Every process reachable from the roots, each reached once.
std::multiset<pid_t> reachable(const model::ProcessTree& tree) {
    std::multiset<pid_t> seen;
    std::vector<size_t> todo = tree.roots();
    while (!todo.empty() && seen.size() <= tree.processes.size()) {
        size_t i = todo.back();
        todo.pop_back();
        seen.insert(tree.processes[i].pid);
        for (size_t c : tree.children_of(tree.processes[i])) todo.push_back(c);
    }
    return seen;
}

TEST(ParentLink, TwoProcessesNamingEachOtherAsParentAreBothReachable) {
    TraceBuilder b;
    b.trace_start(kCollector, 0, 1000, 1000)
        .hello(502, 2000, 503, "/cycle/a", {"a"})
        .hello(503, 2000, 502, "/cycle/b", {"b"});
    auto tree = built_tree(b);
    EXPECT_EQ(reachable(tree), (std::multiset<pid_t>{502, 503}));
    EXPECT_EQ(tree.roots().size(), 1u);
}

TEST(ParentLink, EarliestStartedMemberOfACycleBecomesTheRoot) {
    TraceBuilder b;
    b.trace_start(kCollector, 0, 1000, 1000)
        .hello(600, 3000, 601, "/a", {"a"})
        .hello(601, 2000, 602, "/b", {"b"})
        .hello(602, 4000, 600, "/c", {"c"});
    auto tree = built_tree(b);
    ASSERT_EQ(tree.roots().size(), 1u);
    EXPECT_EQ(tree.processes[tree.roots()[0]].pid, 601);
    EXPECT_EQ(reachable(tree), (std::multiset<pid_t>{600, 601, 602}));
}

TEST(ParentLink, ProcessNamingItselfAsParentIsARoot) {
    TraceBuilder b;
    b.trace_start(kCollector, 0, 1000, 1000).hello(700, 2000, 700, "/self", {"self"});
    auto tree = built_tree(b);
    EXPECT_TRUE(tree.children_of(only(tree, 700)).empty());
    EXPECT_EQ(reachable(tree), (std::multiset<pid_t>{700}));
}

}  // namespace
}  // namespace cowtrace

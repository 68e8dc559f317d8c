// Runs the tree builder on records built in memory and finds processes in the result.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "model/process_tree.hpp"
#include "model/tree_builder.hpp"
#include "trace_builder.hpp"

namespace cowtrace::testing {

// The pids most tests use: the collector, and the command it started.
inline constexpr pid_t kCollector = 100;
inline constexpr pid_t kRoot = 101;

// A trace whose command (kRoot, /bin/sh) has said hello.
inline TraceBuilder traced_root() {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000).hello(kRoot, 1100, kCollector, "/bin/sh", {"sh"});
    return b;
}

inline model::ProcessTree built_tree(const TraceBuilder& b) {
    model::ProcessTree tree;
    model::build_process_tree_from(b.records(), tree);
    return tree;
}

// Every process that held pid during the trace, oldest first.
inline std::vector<const model::Process*> all_with_pid(const model::ProcessTree& tree, pid_t pid) {
    std::vector<const model::Process*> out;
    for (const auto& p : tree.processes) {
        if (p.pid == pid) out.push_back(&p);
    }
    return out;
}

// The one process with pid; fails the test if there is not exactly one.
inline const model::Process& only(const model::ProcessTree& tree, pid_t pid) {
    auto all = all_with_pid(tree, pid);
    EXPECT_EQ(all.size(), 1u) << "processes with pid " << pid;
    static const model::Process kNone{};
    return all.empty() ? kNone : *all.front();
}

// The pids of p's children, in start order.
inline std::vector<pid_t> child_pids(const model::ProcessTree& tree, const model::Process& p) {
    std::vector<pid_t> out;
    for (size_t i : tree.children_of(p)) out.push_back(tree.processes[i].pid);
    return out;
}

}  // namespace cowtrace::testing

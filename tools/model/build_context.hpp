// What every part of the tree builder shares: the tree being built, which process each pid
// stands for, and the trace's clock.
#pragma once

#include <cstdint>
#include <vector>

#include "call_site.hpp"
#include "command_line.hpp"
#include "process_index.hpp"
#include "process_tree.hpp"

namespace cowtrace::model {

struct BuildContext {
    explicit BuildContext(ProcessTree& t) : tree(t), index(t) {}

    ProcessTree& tree;
    ProcessIndex index;
    CommandLineTable command_lines;  // every command line of the build, once
    CallSiteTable call_sites;        // every creation's call site, once
    // Each process's execs while the build changes them (attempts resolved, images merged), by
    // index in tree.processes; the tree's spans are made from them at the end.
    std::vector<std::vector<ExecEvent>> execs;

    // (A process made since may grow the list: a reference is good until the next process.)
    std::vector<ExecEvent>& execs_of(size_t i) {
        if (i >= execs.size()) execs.resize(i + 1);
        return execs[i];
    }
    std::vector<ExecEvent>& execs_of(const Process& p) { return execs_of(index.index_of(p)); }

    // Nanoseconds since the trace started, from a record's CLOCK_MONOTONIC stamp.
    uint64_t rel(uint64_t t_ns) const { return t_ns >= tree.t0_ns ? t_ns - tree.t0_ns : 0; }
};

}  // namespace cowtrace::model

// Resident memory over the run, from the per-process smaps_rollup samples: the largest single
// process, and the whole tree's PSS (PSS splits shared pages among their sharers, so it is the
// one figure that can be summed across processes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/process_tree.hpp"

namespace cowtrace::report {

struct ProcessMemoryPeak {
    uint64_t rss_bytes = 0;
    uint64_t t_ns = 0;
    size_t process = 0;  // index into tree.processes; meaningless when rss_bytes is 0
};

struct TreePssPoint {
    uint64_t t_ns = 0;
    uint64_t pss_bytes = 0;
};

bool has_memory_samples(const model::ProcessTree& tree);

// The highest RSS any one process reached in a sample.
ProcessMemoryPeak peak_rss(const model::ProcessTree& tree);

// The tree's PSS at each instant a sample was taken, a fork began or ended its sharing, or a
// process ended: the sum, over the processes alive then, of each one's latest sample, with
// half of what a fork shared moved from a parent's earlier sample to its child (and back).
std::vector<TreePssPoint> tree_pss_series(const model::ProcessTree& tree);

// Each process's part of the tree's PSS at instant t_ns (as the series counts it), largest
// first; processes counting nothing are left out.
struct ProcessPssShare {
    size_t process = 0;  // index into tree.processes
    uint64_t pss_bytes = 0;
};
std::vector<ProcessPssShare> tree_pss_shares_at(const model::ProcessTree& tree, uint64_t t_ns);

TreePssPoint peak_tree_pss(const std::vector<TreePssPoint>& series);

}  // namespace cowtrace::report

// Where processes were created from: the creator's return addresses as frame labels (the
// collector's symbol when it resolved one, else the hex address), and fork episodes grouped by
// call site so that reports can say which code a copy-on-write cost comes from.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "model/process_tree.hpp"
#include "process_labels.hpp"

namespace cowtrace::report {

// "main (cow_writer.c:42)" from tree.symbols keyed by (creator pid, ip), else "0x55d0c0de11d0".
std::string frame_label(const model::ProcessTree& tree, pid_t creator, uint64_t ip);
// The frames at one return address, innermost first: its label, then the functions that code
// was inlined into (tree.symbols_inlined_into).
std::vector<std::string> frame_labels(const model::ProcessTree& tree, pid_t creator, uint64_t ip);

// The call site that created p, outermost frame first (root-first, as flame graphs want it).
std::vector<std::string> creation_frames(const model::ProcessTree& tree, const model::Process& p);

// One line for messages: innermost frames first, "main (a.c:42) ← __libc_start_call_main
// (libc.so.6) ← …".
std::string call_site_text(const model::ProcessTree& tree, const model::Process& p,
                           size_t max_frames = 4);

struct ForkCallSite {
    std::string program;              // the forking process, by name
    std::vector<std::string> frames;  // outermost first; empty when no call site was captured
    std::string how;                  // fork, _Fork, clone…
    size_t forks = 0;
    size_t short_lived = 0;                // of those, not measured (the child went too soon)
    size_t parent_ended_first = 0;         // of those, because its parent exited first
    uint64_t copied_bytes_peak_total = 0;  // each measured episode's peak, summed
    uint64_t copied_bytes_peak_max = 0;
    uint64_t shared_bytes_at_fork_total = 0;
    std::vector<size_t> episodes;  // indices into tree.episodes
};

// Every fork episode, grouped by (program, call site, how); the costliest first.
std::vector<ForkCallSite> fork_call_sites(const model::ProcessTree& tree,
                                          const ProcessLabels& labels);

}  // namespace cowtrace::report

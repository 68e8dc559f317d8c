// Two runs of the same program lined up, for CI baselines (`cowtrace diff`, `cowtrace check
// --baseline`): processes by program and command line, fork episodes by program and call site,
// each side's figures kept so that a reader sees what grew and from where.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/process_tree.hpp"

namespace cowtrace::diff {

// What one run's forks at one call site did. Short-lived forks (the child went before its
// fork-time memory was read) count as forks but have no copy figures: a site whose forks were
// all short-lived has nothing to compare, which is not the same as having copied nothing.
struct ForkSiteFigures {
    size_t forks = 0;
    size_t measured = 0;                // forks whose copy-on-write was measured
    uint64_t largest_copied_bytes = 0;  // the largest peak of one measured fork
    uint64_t copied_bytes_total = 0;    // the measured forks' peaks, summed
    pid_t largest_child = 0;            // the child of that largest fork (0: none measured)
    size_t largest_episode = 0;         // its index in the tree's episodes
    uint64_t largest_shared_bytes = 0;  // what that fork shared at fork
    std::string largest_command;        // the command line of that child
    std::string call_site;              // innermost frames first, as messages show them

    bool has_copy_figures() const { return measured > 0; }
};

struct ForkSiteDiff {
    std::string program;              // the program that forked
    std::string how;                  // fork, _Fork, clone…
    std::vector<std::string> frames;  // outermost first; unresolved addresses as "?"
    std::optional<ForkSiteFigures> old_run, new_run;  // absent: the site did not fork in that run
};

// One run's processes of one program and command line.
struct ProcessGroupFigures {
    size_t count = 0;
    std::string command;          // as typed
    uint64_t peak_rss_bytes = 0;  // the largest RSS any of them reached (0: no sample)
    pid_t peak_rss_pid = 0;
    uint64_t peak_pss_bytes = 0;
    pid_t peak_pss_pid = 0;
};

struct ProcessGroupDiff {
    std::string program;
    std::optional<ProcessGroupFigures> old_run, new_run;
    // Lined up by program name alone: no group of the other run had the same command line
    // (arguments that name a temporary file, a port, a changed option).
    bool matched_by_program_only = false;
};

// What a whole run amounts to.
struct RunFigures {
    std::string command;  // the traced command, or the first process's
    size_t processes = 0;
    size_t forks = 0;
    size_t measured_forks = 0;
    uint64_t copied_bytes_total = 0;  // every measured fork's peak, summed
    bool census = false;              // copy-on-write was measured
    bool memory_sampled = false;      // RSS/PSS samples exist
    uint64_t tree_pss_peak_bytes = 0;
    uint64_t tree_pss_peak_t_ns = 0;
    uint64_t peak_rss_bytes = 0;
    pid_t peak_rss_pid = 0;
};

struct TraceDiff {
    RunFigures old_run, new_run;
    std::vector<ForkSiteDiff> fork_sites;     // the largest growth of one fork's copy first
    std::vector<ProcessGroupDiff> processes;  // the largest growth of peak RSS first
};

TraceDiff diff_runs(const model::ProcessTree& old_tree, const model::ProcessTree& new_tree);

// (new − old) / old in percent; none when old is 0 (growth from nothing has no ratio).
std::optional<double> growth_percent(uint64_t old_value, uint64_t new_value);

// "+30.0%", "-2.5%", "0%"; "new" when there is no ratio.
std::string growth_text(uint64_t old_value, uint64_t new_value);

// A site as messages name it: "cow_writer fork at main (cow_writer.c:73) ← __libc_start_call_main
// (libc.so.6)".
std::string site_text(const ForkSiteDiff& site, size_t max_frames = 4);

}  // namespace cowtrace::diff

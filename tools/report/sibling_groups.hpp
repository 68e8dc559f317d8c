// Which siblings every report folds into one group: leaves that ran the same program, ended the
// same way, hit the same limits and copied about as much. The text report's `N*[true]`, the HTML
// page's folded rows and the Perfetto report's group tracks are the same groups, from here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/process_tree.hpp"
#include "process_labels.hpp"

namespace cowtrace::report {

// Fewer alike siblings than this stay one per line: folding two saves nothing.
inline constexpr size_t kMinSiblingsToFold = 3;

struct SiblingFolding {
    bool fold = true;           // false: every process on its own (`report -c`)
    bool by_arguments = false;  // siblings must also have the same arguments (`report -a`)
};

// A run of consecutive children of one process: a single process, or a folded group.
struct SiblingRun {
    size_t first = 0;  // position in the parent's children
    size_t count = 1;
    bool folded() const { return count >= kMinSiblingsToFold; }
};

class SiblingGroups {
public:
    SiblingGroups(const model::ProcessTree& tree, const ProcessLabels& labels,
                  SiblingFolding folding);

    // The children of process `parent`, in order: alike neighbours folded together.
    std::vector<SiblingRun> runs_of(size_t parent) const;

    // The fork episode whose child is process `index`, if any.
    const model::ForkEpisode* episode_of(size_t index) const;

private:
    // Empty for a process that never folds (it has children): equal keys fold.
    std::string fold_key(size_t index) const;

    const model::ProcessTree& tree_;
    const ProcessLabels& labels_;
    SiblingFolding folding_;
    std::vector<std::optional<size_t>> episode_of_;  // process index → episode index
};

// Low, middle and high of one figure over a group's members (those that have it).
struct FigureSpread {
    size_t count = 0;  // members with the figure
    uint64_t min = 0;
    uint64_t median = 0;  // the lower middle of an even count: a figure some member had
    uint64_t max = 0;
    uint64_t total = 0;
};
FigureSpread spread_of(std::vector<uint64_t> values);

// What a folded group's members did, for the reports that show one line for all of them.
struct SiblingGroupFigures {
    std::vector<pid_t> pids;         // in pid order
    FigureSpread lifetime_ns;        // members that ended
    FigureSpread shared_bytes;       // measured episodes: shared at fork
    FigureSpread copied_bytes_peak;  // measured episodes
    size_t short_lived = 0;          // episodes not measured (the child went too soon)
    FigureSpread peak_rss_bytes;     // members with memory samples
    FigureSpread peak_pss_bytes;
};
SiblingGroupFigures group_figures(const model::ProcessTree& tree, const SiblingGroups& groups,
                                  size_t parent, SiblingRun run);

}  // namespace cowtrace::report

// Budgets against a baseline (`cowtrace check NEW --baseline OLD --max-…-growth`): CI asks
// whether a change made memory grow, not only whether it crossed a fixed line. Each failure
// names what grew, by how much, and from where (the fork call site, the program).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "budgets.hpp"
#include "diff/trace_diff.hpp"

namespace cowtrace::check {

struct GrowthBudgets {
    // The largest copy of one fork, per fork call site; a site new in this run that copies
    // counts as grown. Sites whose forks were all short-lived (not measured) are not compared.
    std::optional<double> max_cow_growth_percent;
    // Peak RSS per program and command line, and the whole tree's PSS peak.
    std::optional<double> max_rss_growth_percent;
    // Processes in the run, beyond the baseline's count.
    std::optional<uint64_t> max_processes_growth;
    // Growth of fewer bytes than this is noise (a stack page, a sample taken a moment later),
    // whatever its percentage.
    uint64_t ignore_below_bytes = kDefaultIgnoreBelowBytes;

    static constexpr uint64_t kDefaultIgnoreBelowBytes = 1 << 20;

    bool any() const {
        return max_cow_growth_percent || max_rss_growth_percent || max_processes_growth;
    }
};

// One result per growth budget set, in the order of GrowthBudgets' fields, with the exit bits
// of the kind of budget (copy-on-write 4, memory 8, processes 16).
std::vector<BudgetResult> check_growth(const diff::TraceDiff& diff, const GrowthBudgets& budgets);

}  // namespace cowtrace::check

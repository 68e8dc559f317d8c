// The options of `cowtrace check` that compare a trace with a baseline trace of an earlier run
// (--baseline OLD --max-cow-growth PCT --max-rss-growth PCT --max-processes-growth N), and the
// verdicts they add to the absolute budgets'.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "check/budgets.hpp"
#include "check/growth_check.hpp"
#include "model/process_tree.hpp"

namespace cowtrace::cli {

struct BaselineFlags {
    std::string baseline;  // the OLD trace
    std::string max_cow_growth;
    std::string max_rss_growth;
    uint64_t max_processes_growth = 0;
    bool max_processes_growth_set = false;
    std::string ignore_growth_below;
};

// Registers the options above in the "Baseline" group of cmd.
void add_baseline_options(CLI::App& cmd, BaselineFlags& flags);

// The flags as growth budgets; false with a one-line error for a value that does not parse, or
// growth budgets without a baseline (or a baseline without a growth budget).
bool growth_budgets_from_flags(const BaselineFlags& flags, check::GrowthBudgets& budgets,
                               std::string& error);

// The baseline's own completeness ("complete-baseline", exit bit 32 unless allowed: a baseline
// cut short makes everything look grown), then the growth budgets' verdicts.
std::vector<check::BudgetResult> judge_growth(const model::ProcessTree& baseline,
                                              const model::ProcessTree& tree,
                                              const check::GrowthBudgets& budgets,
                                              bool allow_incomplete);

// The footer text that documents the growth budgets.
extern const char* const kBaselineHelp;

}  // namespace cowtrace::cli

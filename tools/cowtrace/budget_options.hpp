// The budget options `cowtrace check` and `cowtrace run` share, and how a command enforces them:
// evaluate, report, write JUnit XML if asked, and give the exit status bits.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "check/budgets.hpp"
#include "model/process_tree.hpp"

namespace cowtrace::cli {

struct BudgetFlags {
    std::string max_cow;
    std::string max_cow_ratio;
    std::string max_cow_concurrent;
    std::string max_rss;
    std::string max_tree_pss;
    uint64_t max_processes = 0;
    bool max_processes_set = false;
    bool no_leftover_processes = false;
    bool allow_incomplete = false;  // judge a damaged or cut-short trace by what it holds
    std::string junit;
};

// Registers --max-cow, --max-cow-ratio, --max-rss, --max-tree-pss, --max-processes,
// --no-leftover-processes, --allow-incomplete and --junit in the "Budgets" group of cmd.
void add_budget_options(CLI::App& cmd, BudgetFlags& flags);

// The flags as budgets; false with a one-line error for a size or percentage that does not parse.
bool budgets_from_flags(const BudgetFlags& flags, check::Budgets& budgets, std::string& error);

// The verdicts on one trace: whether it is complete (first, when it is not), then each budget.
std::vector<check::BudgetResult> judge_budgets(const model::ProcessTree& tree,
                                               const check::Budgets& budgets,
                                               bool allow_incomplete);

// Where the results came from, for the JSON and JUnit reports.
struct BudgetReportContext {
    std::string trace_path;
    std::string baseline_path;  // empty without --baseline
    std::string command;
    std::string host;
};

// Writes the results to out, as text (only the failures if quiet) or as JSON, and the JUnit file
// if asked. Returns the budget exit bits; output_error is set when the JUnit file cannot be
// written.
int report_budgets(const std::vector<check::BudgetResult>& results, const BudgetFlags& flags,
                   const BudgetReportContext& context, const std::string& prefix, bool quiet,
                   bool json, std::ostream& out, std::string& output_error);

// Checks the tree, and that it is complete, writes the human report to out (only the failures
// if quiet) and the JUnit file if asked. Returns the budget exit bits (0: all met; 32 for an
// incomplete trace unless allowed); output_error is set when the JUnit file cannot be written.
int enforce_budgets(const model::ProcessTree& tree, const check::Budgets& budgets,
                    const BudgetFlags& flags, const std::string& trace_path,
                    const std::string& prefix, bool quiet, std::ostream& out,
                    std::string& output_error);

// The footer text that documents the budget exit status.
extern const char* const kBudgetExitStatusHelp;

}  // namespace cowtrace::cli

// Whether a trace holds the whole run. A CI gate must fail closed: budgets judged on a trace cut
// short (a collector killed mid-run, a truncated file, records lost on the way) can pass only
// because what broke them is missing.
#pragma once

#include <string>
#include <vector>

#include "budgets.hpp"
#include "model/process_tree.hpp"

namespace cowtrace::check {

// What the trace lacks, one sentence each; empty for a complete trace.
std::vector<std::string> what_the_trace_lacks(const model::ProcessTree& tree);

// The verdict on completeness, as a result beside the budgets' ("complete-trace", exit bit
// kExitIncompleteTrace): met for a complete trace; kTraceIncomplete otherwise, which counts as
// met when allowed (--allow-incomplete), so that only the budgets decide.
BudgetResult completeness_result(const std::vector<std::string>& lacks, bool allowed);

}  // namespace cowtrace::check

// Budget results for scripts (`cowtrace check --format json`): the same verdicts, summaries and
// offenders as the text and JUnit reports, and the exit status they add up to.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "budgets.hpp"

namespace cowtrace::check {

struct JsonContext {
    std::string trace_path;
    std::string baseline_path;  // empty without --baseline
};

// {"trace", "baseline", "status", "passed", "results": [{"name", "option", "limit", "verdict":
// "met"|"exceeded"|"not_measured"|"trace_incomplete", "summary", "offenders", "exit_bit"}]}
nlohmann::json results_to_json(const std::vector<BudgetResult>& results,
                               const JsonContext& context);

std::string verdict_id(Verdict v);

}  // namespace cowtrace::check

// Budget results for people: failures first, each with what was limited, what happened and the
// offenders, then the budgets that were met, then a one-line verdict.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "budgets.hpp"

namespace cowtrace::check {

// prefix starts every line ("cowtrace check", "cowtrace run"). failures_only leaves out the
// budgets that were met and the verdict when all were (for `run --quiet`).
void write_budget_report(const std::vector<BudgetResult>& results, const std::string& prefix,
                         bool failures_only, std::ostream& out);

}  // namespace cowtrace::check

// Checks a trace against budgets, with messages in the manner of pytest-memray: what was
// limited, what happened, and which episodes or processes did it (pid, command, call site).
#pragma once

#include <vector>

#include "budgets.hpp"
#include "model/process_tree.hpp"

namespace cowtrace::check {

// One result per budget set, in the order of Budgets' fields.
std::vector<BudgetResult> check_budgets(const model::ProcessTree& tree, const Budgets& budgets);

// 0 when every budget was met, else the OR of the failed budgets' exit bits.
int budget_exit_status(const std::vector<BudgetResult>& results);

}  // namespace cowtrace::check

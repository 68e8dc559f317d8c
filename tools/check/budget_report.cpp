#include "budget_report.hpp"

#include <fmt/format.h>

#include "budget_check.hpp"

namespace cowtrace::check {

void write_budget_report(const std::vector<BudgetResult>& results, const std::string& prefix,
                         bool failures_only, std::ostream& out) {
    size_t failed = 0;
    for (const auto& r : results) {
        if (!r.failed()) continue;
        ++failed;
        out << fmt::format("{}: FAILED {}: {}\n", prefix, r.option(), r.summary);
        for (const auto& o : r.offenders) out << "    " << o << "\n";
    }
    if (failures_only && failed == 0) return;
    for (const auto& r : results) {
        if (!r.failed() && !failures_only) {
            out << fmt::format("{}: passed {}: {}\n", prefix, r.option(), r.summary);
        }
    }
    int status = budget_exit_status(results);
    if (failed == 0) {
        out << fmt::format("{}: all {} budget{} met\n", prefix, results.size(),
                           results.size() == 1 ? "" : "s");
    } else {
        out << fmt::format("{}: {} of {} budget{} failed (exit status {})\n", prefix, failed,
                           results.size(), results.size() == 1 ? "" : "s", status);
    }
}

}  // namespace cowtrace::check

#include "budget_json.hpp"

#include "budget_check.hpp"

namespace cowtrace::check {

std::string verdict_id(Verdict v) {
    switch (v) {
        case Verdict::kMet:
            return "met";
        case Verdict::kExceeded:
            return "exceeded";
        case Verdict::kNotMeasured:
            return "not_measured";
        case Verdict::kTraceIncomplete:
            return "trace_incomplete";
    }
    return "unknown";
}

nlohmann::json results_to_json(const std::vector<BudgetResult>& results,
                               const JsonContext& context) {
    nlohmann::json j;
    j["trace"] = context.trace_path;
    j["baseline"] =
        context.baseline_path.empty() ? nlohmann::json() : nlohmann::json(context.baseline_path);
    int status = budget_exit_status(results);
    j["status"] = status;
    j["passed"] = status == 0;
    j["results"] = nlohmann::json::array();
    for (const auto& r : results) {
        j["results"].push_back({{"name", r.name},
                                {"option", r.option()},
                                {"limit", r.limit},
                                {"verdict", verdict_id(r.verdict)},
                                {"summary", r.summary},
                                {"offenders", r.offenders},
                                {"exit_bit", r.exit_bit}});
    }
    return j;
}

}  // namespace cowtrace::check

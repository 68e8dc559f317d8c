#include "baseline_options.hpp"

#include <cmath>
#include <cstdlib>

#include "check/trace_completeness.hpp"
#include "diff/trace_diff.hpp"
#include "units.hpp"

namespace cowtrace::cli {

const char* const kBaselineHelp =
    "With --baseline OLD, the growth budgets compare TRACE with OLD, the same program's earlier\n"
    "run: fork call sites are lined up by program and call site (the largest copy of one fork),\n"
    "processes by program and command line (peak RSS; the tree's PSS peak). Growth of less than\n"
    "--ignore-growth-below (1MiB) is noise. A failed growth budget sets the same bit as its\n"
    "absolute kind (4, 8, 16); a damaged or cut-short baseline sets 32 like the trace.";

namespace {

// "10", "10%", "250 %": growth in percent, 0 or more (a budget may allow doubling).
bool parse_growth(const std::string& name, const std::string& text, std::optional<double>& out,
                  std::string& error) {
    if (text.empty()) return true;
    std::string t = text;
    while (!t.empty() && isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    if (!t.empty() && t.back() == '%') t.pop_back();
    while (!t.empty() && isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    char* end = nullptr;
    double v = t.empty() ? NAN : strtod(t.c_str(), &end);
    if (t.empty() || end == nullptr || *end != '\0' || !std::isfinite(v) || v < 0) {
        error = name + " '" + text + "' is not a growth in percent (examples: 10%, 2.5, 200%)";
        return false;
    }
    out = v;
    return true;
}

}  // namespace

void add_baseline_options(CLI::App& cmd, BaselineFlags& flags) {
    const char* group = "Baseline (CI: did this change make memory grow?)";
    cmd.add_option("--baseline", flags.baseline,
                   "Trace of an earlier run to compare with (the growth budgets below)")
        ->type_name("OLD")
        ->group(group);
    cmd.add_option("--max-cow-growth", flags.max_cow_growth,
                   "Fail if the largest copy of one fork at any call site grew more than PCT "
                   "percent over OLD (a new call site that copies fails too)")
        ->type_name("PCT")
        ->group(group);
    cmd.add_option("--max-rss-growth", flags.max_rss_growth,
                   "Fail if the peak RSS of any program (by command line), or the tree's PSS "
                   "peak, grew more than PCT percent over OLD")
        ->type_name("PCT")
        ->group(group);
    cmd.add_option_function<uint64_t>(
           "--max-processes-growth",
           [&flags](const uint64_t& n) {
               flags.max_processes_growth = n;
               flags.max_processes_growth_set = true;
           },
           "Fail if the run has more than N processes more than OLD")
        ->type_name("N")
        ->group(group);
    cmd.add_option("--ignore-growth-below", flags.ignore_growth_below,
                   "Growth of fewer bytes than SIZE never fails (default 1MiB)")
        ->type_name("SIZE")
        ->group(group);
}

bool growth_budgets_from_flags(const BaselineFlags& flags, check::GrowthBudgets& budgets,
                               std::string& error) {
    if (!parse_growth("--max-cow-growth", flags.max_cow_growth, budgets.max_cow_growth_percent,
                      error))
        return false;
    if (!parse_growth("--max-rss-growth", flags.max_rss_growth, budgets.max_rss_growth_percent,
                      error))
        return false;
    if (flags.max_processes_growth_set) budgets.max_processes_growth = flags.max_processes_growth;
    if (!flags.ignore_growth_below.empty() &&
        !parse_size(flags.ignore_growth_below, budgets.ignore_below_bytes, error)) {
        error = "--ignore-growth-below " + error;
        return false;
    }
    if (budgets.any() && flags.baseline.empty()) {
        error = "--max-cow-growth, --max-rss-growth and --max-processes-growth need --baseline OLD";
        return false;
    }
    if (!budgets.any() && !flags.baseline.empty()) {
        error =
            "--baseline needs a growth budget (--max-cow-growth, --max-rss-growth, "
            "--max-processes-growth)";
        return false;
    }
    return true;
}

std::vector<check::BudgetResult> judge_growth(const model::ProcessTree& baseline,
                                              const model::ProcessTree& tree,
                                              const check::GrowthBudgets& budgets,
                                              bool allow_incomplete) {
    std::vector<check::BudgetResult> results;
    std::vector<std::string> lacks = check::what_the_trace_lacks(baseline);
    if (!lacks.empty()) {
        check::BudgetResult r = check::completeness_result(lacks, allow_incomplete);
        r.name = "complete-baseline";
        const std::string said = "the trace is incomplete";
        if (r.summary.compare(0, said.size(), said) == 0)
            r.summary.replace(0, said.size(), "the baseline is incomplete");
        results.push_back(std::move(r));
    }
    std::vector<check::BudgetResult> growth =
        check::check_growth(diff::diff_runs(baseline, tree), budgets);
    results.insert(results.end(), growth.begin(), growth.end());
    return results;
}

}  // namespace cowtrace::cli

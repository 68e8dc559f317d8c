#include "budget_options.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "check/budget_check.hpp"
#include "check/budget_json.hpp"
#include "check/budget_report.hpp"
#include "check/junit_report.hpp"
#include "check/trace_completeness.hpp"
#include "report/process_labels.hpp"
#include "units.hpp"

namespace cowtrace::cli {

const char* const kBudgetExitStatusHelp =
    "A failed budget sets a bit of the exit status: 4 copy-on-write (--max-cow, --max-cow-ratio),\n"
    "8 memory (--max-rss, --max-tree-pss), 16 processes (--max-processes, "
    "--no-leftover-processes);\n"
    "several kinds failing add up (12 = copy-on-write and memory). A budget the trace cannot "
    "measure\n"
    "(e.g. recorded with --no-cow) fails too, and 32 is added for a trace that is damaged or "
    "cut short\n"
    "(a collector killed, records lost) unless --allow-incomplete is given. Sizes: 64MiB, "
    "1.5GiB,\n"
    "500KB (KiB/MiB/GiB binary, KB/MB/GB decimal).";

namespace {

// "25", "25%", "12.5 %": a percentage between 0 and 100.
bool parse_percent(const std::string& text, double& pct, std::string& error) {
    std::string t = text;
    while (!t.empty() && isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    if (!t.empty() && t.back() == '%') t.pop_back();
    while (!t.empty() && isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    char* end = nullptr;
    double v = t.empty() ? NAN : strtod(t.c_str(), &end);
    if (t.empty() || end == nullptr || *end != '\0' || !std::isfinite(v) || v < 0 || v > 100) {
        error = "'" + text + "' is not a percentage between 0 and 100 (examples: 25, 12.5%)";
        return false;
    }
    pct = v;
    return true;
}

bool size_flag(const std::string& name, const std::string& text, std::optional<uint64_t>& out,
               std::string& error) {
    if (text.empty()) return true;
    uint64_t bytes = 0;
    if (!parse_size(text, bytes, error)) {
        error = name + " " + error;
        return false;
    }
    out = bytes;
    return true;
}

}  // namespace

void add_budget_options(CLI::App& cmd, BudgetFlags& flags) {
    const char* group = "Budgets";
    cmd.add_option("--max-cow", flags.max_cow,
                   "Fail if any fork episode copies more than SIZE (its peak)")
        ->type_name("SIZE")
        ->group(group);
    cmd.add_option(
           "--max-cow-ratio", flags.max_cow_ratio,
           "Fail if any fork episode copies more than PCT percent of what it shared at fork")
        ->type_name("PCT")
        ->group(group);
    cmd.add_option("--max-cow-concurrent", flags.max_cow_concurrent,
                   "Fail if the fork episodes alive at one time copied more than SIZE together "
                   "(each at its latest counted sample)")
        ->type_name("SIZE")
        ->group(group);
    cmd.add_option("--max-rss", flags.max_rss,
                   "Fail if any process's RSS exceeds SIZE at any sample")
        ->type_name("SIZE")
        ->group(group);
    cmd.add_option("--max-tree-pss", flags.max_tree_pss,
                   "Fail if the whole tree's PSS exceeds SIZE at any time")
        ->type_name("SIZE")
        ->group(group);
    cmd.add_option_function<uint64_t>(
           "--max-processes",
           [&flags](const uint64_t& n) {
               flags.max_processes = n;
               flags.max_processes_set = true;
           },
           "Fail if the run has more than N processes (the command included)")
        ->type_name("N")
        ->group(group);
    cmd.add_flag("--no-leftover-processes", flags.no_leftover_processes,
                 "Fail if any process outlives the traced command")
        ->group(group);
    cmd.add_flag("--allow-incomplete", flags.allow_incomplete,
                 "Judge a damaged or cut-short trace by what it holds, instead of failing (32)")
        ->group(group);
    cmd.add_option("--junit", flags.junit, "Also write the budget results as JUnit XML to FILE")
        ->type_name("FILE")
        ->group(group);
}

bool budgets_from_flags(const BudgetFlags& flags, check::Budgets& budgets, std::string& error) {
    if (!size_flag("--max-cow", flags.max_cow, budgets.max_cow_bytes, error)) return false;
    if (!size_flag("--max-cow-concurrent", flags.max_cow_concurrent,
                   budgets.max_cow_concurrent_bytes, error))
        return false;
    if (!size_flag("--max-rss", flags.max_rss, budgets.max_rss_bytes, error)) return false;
    if (!size_flag("--max-tree-pss", flags.max_tree_pss, budgets.max_tree_pss_bytes, error))
        return false;
    if (!flags.max_cow_ratio.empty()) {
        double pct = 0;
        if (!parse_percent(flags.max_cow_ratio, pct, error)) {
            error = "--max-cow-ratio " + error;
            return false;
        }
        budgets.max_cow_ratio_percent = pct;
    }
    if (flags.max_processes_set) budgets.max_processes = flags.max_processes;
    budgets.no_leftover_processes = flags.no_leftover_processes;
    return true;
}

std::vector<check::BudgetResult> judge_budgets(const model::ProcessTree& tree,
                                               const check::Budgets& budgets,
                                               bool allow_incomplete) {
    std::vector<check::BudgetResult> results = check::check_budgets(tree, budgets);
    // A trace cut short must not pass for lack of what broke a budget: its verdict comes first.
    std::vector<std::string> lacks = check::what_the_trace_lacks(tree);
    if (!lacks.empty()) {
        results.insert(results.begin(), check::completeness_result(lacks, allow_incomplete));
    }
    return results;
}

int report_budgets(const std::vector<check::BudgetResult>& results, const BudgetFlags& flags,
                   const BudgetReportContext& context, const std::string& prefix, bool quiet,
                   bool json, std::ostream& out, std::string& output_error) {
    if (json) {
        out << check::results_to_json(results, {context.trace_path, context.baseline_path})
                   .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
    } else {
        check::write_budget_report(results, prefix, quiet, out);
    }
    if (!flags.junit.empty()) {
        std::ofstream file(flags.junit);
        check::write_junit(
            results, {context.trace_path, context.command, context.host, context.baseline_path},
            file);
        file.close();
        if (!file) output_error = "cannot write " + flags.junit;
    }
    return check::budget_exit_status(results);
}

int enforce_budgets(const model::ProcessTree& tree, const check::Budgets& budgets,
                    const BudgetFlags& flags, const std::string& trace_path,
                    const std::string& prefix, bool quiet, std::ostream& out,
                    std::string& output_error) {
    return report_budgets(judge_budgets(tree, budgets, flags.allow_incomplete), flags,
                          {trace_path, "", report::command_text(tree.command), tree.host}, prefix,
                          quiet, false, out, output_error);
}

}  // namespace cowtrace::cli

// cowtrace check: budgets a trace must meet, for CI, absolute or against a baseline trace of an
// earlier run. Exit 0 when every budget is met; else the budget bits (see
// kBudgetExitStatusHelp), with 32 for a damaged or incomplete trace; 1 when a trace cannot be
// read; 2 on a usage error.
#include <iostream>
#include <string>
#include <vector>

#include "baseline_options.hpp"
#include "budget_options.hpp"
#include "commands.hpp"
#include "report/process_labels.hpp"
#include "trace_loading.hpp"

namespace cowtrace::cli {

CommandMain add_check_command(CLI::App& app) {
    struct Args {
        std::vector<std::string> inputs;
        BudgetFlags budgets;
        BaselineFlags baseline;
        std::string format = "text";
    };
    auto args = std::make_shared<Args>();
    CLI::App* chk = app.add_subcommand("check", "Check a trace against budgets (for CI)");
    chk->add_option("TRACE", args->inputs, "Trace file, and any spool files to merge")->required();
    chk->add_option("-f,--format", args->format, "text or json (on standard output)")
        ->check(CLI::IsMember({"text", "json"}))
        ->default_val("text");
    add_budget_options(*chk, args->budgets);
    add_baseline_options(*chk, args->baseline);
    chk->footer(
        std::string("Exit status: 0 when every budget is met; 1 if a trace cannot be read or the\n"
                    "JUnit file cannot be written; 2 on a usage error.\n") +
        kBudgetExitStatusHelp + "\n\n" + kBaselineHelp);
    return [args]() -> int {
        check::Budgets budgets;
        check::GrowthBudgets growth;
        std::string error;
        if (!budgets_from_flags(args->budgets, budgets, error) ||
            !growth_budgets_from_flags(args->baseline, growth, error)) {
            std::cerr << "cowtrace check: " << error << "\n";
            return kExitUsage;
        }
        if (!budgets.any() && !growth.any()) {
            std::cerr << "cowtrace check: no budget given (--max-cow, --max-cow-ratio, --max-rss, "
                         "--max-tree-pss, --max-processes, --no-leftover-processes; with "
                         "--baseline OLD: --max-cow-growth, --max-rss-growth, "
                         "--max-processes-growth)\n";
            return kExitUsage;
        }
        model::ProcessTree tree, baseline;
        ProgressLine progress("cowtrace check");
        if (!load_trace(args->inputs, tree, error, progress) ||
            (growth.any() && !load_trace({args->baseline.baseline}, baseline, error, progress))) {
            progress.done();
            std::cerr << "cowtrace check: " << error << "\n";
            return kExitBadInput;
        }
        progress.done();
        std::vector<check::BudgetResult> results =
            judge_budgets(tree, budgets, args->budgets.allow_incomplete);
        if (growth.any()) {
            std::vector<check::BudgetResult> grown =
                judge_growth(baseline, tree, growth, args->budgets.allow_incomplete);
            results.insert(results.end(), grown.begin(), grown.end());
        }
        std::string output_error;
        int status = report_budgets(results, args->budgets,
                                    {args->inputs.front(), args->baseline.baseline,
                                     report::command_text(tree.command), tree.host},
                                    "cowtrace check", false, args->format == "json", std::cout,
                                    output_error);
        if (!output_error.empty()) {
            std::cerr << "cowtrace check: " << output_error << "\n";
            return kExitBadInput;
        }
        return status;
    };
}

}  // namespace cowtrace::cli

// cowtrace check: budgets a trace must meet, for CI. Exit 0 when every budget is met; else the
// budget bits (see kBudgetExitStatusHelp), with 32 for a damaged or incomplete trace; 1 when the
// trace cannot be read; 2 on a usage error.
#include <iostream>
#include <string>
#include <vector>

#include "budget_options.hpp"
#include "commands.hpp"
#include "trace_loading.hpp"

namespace cowtrace::cli {

CommandMain add_check_command(CLI::App& app) {
    struct Args {
        std::vector<std::string> inputs;
        BudgetFlags budgets;
    };
    auto args = std::make_shared<Args>();
    CLI::App* chk = app.add_subcommand("check", "Check a trace against budgets (for CI)");
    chk->add_option("TRACE", args->inputs, "Trace file, and any spool files to merge")->required();
    add_budget_options(*chk, args->budgets);
    chk->footer(
        std::string("Exit status: 0 when every budget is met; 1 if a trace cannot be read or the\n"
                    "JUnit file cannot be written; 2 on a usage error.\n") +
        kBudgetExitStatusHelp);
    return [args]() -> int {
        check::Budgets budgets;
        std::string error;
        if (!budgets_from_flags(args->budgets, budgets, error)) {
            std::cerr << "cowtrace check: " << error << "\n";
            return kExitUsage;
        }
        if (!budgets.any()) {
            std::cerr << "cowtrace check: no budget given (--max-cow, --max-cow-ratio, --max-rss, "
                         "--max-tree-pss, --max-processes, --no-leftover-processes)\n";
            return kExitUsage;
        }
        model::ProcessTree tree;
        ProgressLine progress("cowtrace check");
        if (!load_trace(args->inputs, tree, error, progress)) {
            progress.done();
            std::cerr << "cowtrace check: " << error << "\n";
            return kExitBadInput;
        }
        progress.done();
        std::string output_error;
        int status = enforce_budgets(tree, budgets, args->budgets, args->inputs.front(),
                                     "cowtrace check", false, std::cout, output_error);
        if (!output_error.empty()) {
            std::cerr << "cowtrace check: " << output_error << "\n";
            return kExitBadInput;
        }
        return status;
    };
}

}  // namespace cowtrace::cli

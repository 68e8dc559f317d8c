// cowtrace run: start COMMAND with the library preloaded, collect until the tree has ended,
// write the trace, exit with COMMAND's status.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "budget_options.hpp"
#include "collection_run.hpp"
#include "collector/session.hpp"
#include "commands.hpp"
#include "library_locator.hpp"
#include "live_terminal.hpp"
#include "live_view.hpp"
#include "model/tree_builder.hpp"
#include "units.hpp"

namespace cowtrace::cli {

namespace {
struct RunArgs {
    std::string output = "cowtrace.trace";
    bool no_kernel_events = false;
    bool exit_with_command = false;
    bool no_cow = false;
    bool quiet = false;
    bool live = false;
    std::string mode = "auto";
    std::string interval = "100ms";
    std::string cpu_share = "2%";
    std::string attribution = "sampled";
    BudgetFlags budgets;
};

// Options of `run` that take a value, to find where the command starts without "--".
const char* const kRunOptionsWithValue[] = {
    "-o", "--output", "--mode", "--interval", "--cpu-share", "--attribution",
    // budget_options.cpp
    "--max-cow", "--max-cow-ratio", "--max-rss", "--max-tree-pss", "--max-processes", "--junit"};

std::vector<std::string>& command_words() {
    static std::vector<std::string> words;
    return words;
}
}  // namespace

const std::vector<std::string>& run_command_words() {
    return command_words();
}

int split_run_command_line(int argc, char** argv) {
    // argv[1] is "run": the command starts after "--", or at the first word that is neither an
    // option nor an option's value. CLI11 sees only what comes before.
    int i = 2;
    while (i < argc) {
        std::string a = argv[i];
        if (a == "--") {
            for (int j = i + 1; j < argc; ++j) command_words().push_back(argv[j]);
            return i;
        }
        if (a.empty() || a[0] != '-') break;
        bool takes_value = false;
        for (const char* o : kRunOptionsWithValue) takes_value = takes_value || a == o;
        i += takes_value ? 2 : 1;
    }
    for (int j = i; j < argc; ++j) command_words().push_back(argv[j]);
    return i < argc ? i : argc;
}

CommandMain add_run_command(CLI::App& app) {
    auto args = std::make_shared<RunArgs>();
    CLI::App* run = app.add_subcommand("run", "Run COMMAND under cowtrace and write a trace");
    run->footer(
        "Usage: cowtrace run [OPTIONS] -- COMMAND [ARGS...]\n\nExit status: COMMAND's own (128+N "
        "if it died of signal N); 125 if cowtrace itself "
        "failed;\n127 if COMMAND could not be started. When COMMAND succeeded but a budget failed, "
        "the budget\n"
        "bits below (run checks the trace once COMMAND's tree has ended).\n\n" +
        std::string(kBudgetExitStatusHelp));
    run->add_option("-o,--output", args->output, "Trace file to write")
        ->default_val("cowtrace.trace");
    run->add_flag("--no-kernel-events", args->no_kernel_events,
                  "Do not cross-check with the kernel's proc connector");
    run->add_flag("--exit-with-command", args->exit_with_command,
                  "Return when COMMAND ends; processes it left behind are marked still running");
    run->add_flag("--no-cow", args->no_cow, "Do not measure copy-on-write (process tree only)");
    CLI::Option* mode_option =
        run->add_option(
               "--mode", args->mode,
               "Copy-on-write measurement: exact (PFN comparison, needs root), unprivileged "
               "(exclusive bit), or auto")
            ->check(CLI::IsMember({"auto", "exact", "unprivileged"}))
            ->default_val("auto");
    CLI::Option* interval_option =
        run->add_option("--interval", args->interval,
                        "Sampling interval (10ms or more); stretched so sampling stays within "
                        "--cpu-share")
            ->default_val("100ms");
    CLI::Option* cpu_share_option =
        run->add_option("--cpu-share", args->cpu_share, kCpuShareHelp)->default_val("2%");
    CLI::Option* attribution_option = add_attribution_option(*run, args->attribution);
    run->add_flag("-q,--quiet", args->quiet, "Print nothing but errors");
    run->add_flag("--live", args->live,
                  "Show the tree, its open fork episodes (shared, copied, copy rate) and its PSS "
                  "on the terminal (stdout) as they change; q closes the view, COMMAND and the "
                  "trace go on");
    add_budget_options(*run, args->budgets);
    return [args, mode_option, interval_option, cpu_share_option, attribution_option]() -> int {
        const std::vector<std::string>& command = run_command_words();
        // --no-cow samples nothing: a census option beside it would be silently ignored.
        for (CLI::Option* o :
             {mode_option, interval_option, cpu_share_option, attribution_option}) {
            if (args->no_cow && o->count() > 0) {
                fprintf(stderr,
                        "cowtrace run: --no-cow measures nothing, so %s has no effect: "
                        "drop one of them\n",
                        o->get_name().c_str());
                return kExitUsage;
            }
        }
        if (command.empty()) {
            fprintf(stderr, "cowtrace run: no command given (cowtrace run -- COMMAND [ARGS...])\n");
            return kExitUsage;
        }
        std::string error;
        check::Budgets budgets;
        if (!budgets_from_flags(args->budgets, budgets, error)) {
            fprintf(stderr, "cowtrace run: %s\n", error.c_str());
            return kExitUsage;
        }
        if (args->no_cow && (budgets.max_cow_bytes || budgets.max_cow_ratio_percent ||
                             budgets.max_rss_bytes || budgets.max_tree_pss_bytes)) {
            fprintf(stderr,
                    "cowtrace run: --no-cow turns off the measurements that --max-cow, "
                    "--max-cow-ratio, "
                    "--max-rss and --max-tree-pss check\n");
            return kExitUsage;
        }
        if (args->live && !LiveTerminal::available()) {
            fprintf(stderr,
                    "cowtrace run: --live draws on the terminal, and stdout is not one: drop "
                    "--live (then `cowtrace report` shows the trace)\n");
            return kExitUsage;
        }
        std::string lib = locate_library(error);
        if (lib.empty()) {
            fprintf(stderr, "cowtrace: %s\n", error.c_str());
            return kExitToolFailure;
        }
        uint64_t interval_ns = 0;
        if (!sampling_interval(args->interval, "cowtrace run", interval_ns)) return kExitUsage;
        double cpu_share = 0;
        if (!sampling_cpu_share(args->cpu_share, "cowtrace run", cpu_share)) return kExitUsage;
        collector::SessionOptions opt;
        opt.trace_path = args->output;
        opt.census_mode = args->mode;
        opt.interval_ns = interval_ns;
        opt.duty_cycle = cpu_share;
        opt.attribution = args->attribution;
        opt.lib_path = lib;
        opt.command = command;
        opt.kernel_events = !args->no_kernel_events;
        opt.exit_with_command = args->exit_with_command;
        opt.census = !args->no_cow;
        opt.quiet = args->quiet;
        std::unique_ptr<LiveView> live;
        if (args->live) {
            std::string words;
            for (const std::string& w : command) words += " " + w;
            live = std::make_unique<LiveView>("cowtrace run:" + words,
                                              "q: close this view (COMMAND goes on)   Ctrl-C: as "
                                              "without --live",
                                              interval_ns);
            opt.observer = &live->state();
            opt.status_interval_ns = live_refresh_ns(interval_ns);
            opt.on_status = [view = live.get()](const collector::CollectionStatus&) {
                view->refresh();
            };
            live->on_quit = [quiet = args->quiet] {
                if (!quiet) {
                    fprintf(stderr,
                            "cowtrace: live view closed; collecting until COMMAND's tree has "
                            "ended\n");
                }
            };
        }
        collector::Session session(opt);
        collector::SessionResult result = session.run();
        if (live) live->close();
        if (!result.error.empty()) {
            fprintf(stderr, "cowtrace: %s\n", result.error.c_str());
            if (result.command_started) return result.exit_code;
            // Our own set-up failed (exit_code 1), or COMMAND could not be run (127).
            return result.exit_code == 127 ? kExitCannotRun : kExitToolFailure;
        }
        if (!result.trace_warning.empty())
            fprintf(stderr, "cowtrace: %s\n", result.trace_warning.c_str());
        if (!args->quiet) fprintf(stderr, "cowtrace: trace written to %s\n", args->output.c_str());
        if (!budgets.any()) return result.exit_code;
        // Budgets are checked on the trace as written, exactly as `cowtrace check` would; the
        // command's own failure still decides the exit status.
        model::ProcessTree tree;
        if (!model::build_process_tree({args->output}, tree, error)) {
            fprintf(stderr, "cowtrace run: cannot check budgets: %s\n", error.c_str());
            return result.exit_code != 0 ? result.exit_code : kExitToolFailure;
        }
        std::string output_error;
        int budget_status = enforce_budgets(tree, budgets, args->budgets, args->output,
                                            "cowtrace run", args->quiet, std::cerr, output_error);
        if (!output_error.empty()) fprintf(stderr, "cowtrace run: %s\n", output_error.c_str());
        if (result.exit_code != 0) return result.exit_code;
        if (!output_error.empty()) return kExitToolFailure;
        return budget_status;
    };
}

}  // namespace cowtrace::cli

// cowtrace diff: two runs of the same program lined up — processes by program and command
// line, fork episodes by program and call site — and what grew. Exit 0 whatever grew (`cowtrace
// check --baseline` is the gate), 1 when a trace cannot be read or the output written, 2 on a
// usage error.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "commands.hpp"
#include "diff/diff_report.hpp"
#include "trace_loading.hpp"

namespace cowtrace::cli {

CommandMain add_diff_command(CLI::App& app) {
    struct Args {
        std::string old_trace;
        std::string new_trace;
        std::string format = "text";
        std::string output;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("diff", "Show what grew between two traces of one program");
    cmd->add_option("OLD", args->old_trace, "Trace of the earlier run (the baseline)")->required();
    cmd->add_option("NEW", args->new_trace, "Trace of the run to compare with it")->required();
    cmd->add_option("-f,--format", args->format, "text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->default_val("text");
    cmd->add_option("-o,--output", args->output, "Write here instead of standard output");
    cmd->footer(
        "Fork call sites are lined up by the program that forked and its call site, and compared\n"
        "by the largest copy of one fork (short-lived forks have no figures: a site measured in\n"
        "only one run is marked '?', not grown); processes by program and command line (then by\n"
        "program alone), compared by peak RSS/PSS and count. Fail a CI job on growth with\n"
        "`cowtrace check NEW --baseline OLD --max-cow-growth 10%`.\n"
        "Exit status: 0 on success, 1 if a trace cannot be read or the output cannot be written,\n"
        "2 on a usage error.");
    return [args]() -> int {
        model::ProcessTree old_tree, new_tree;
        std::string error;
        ProgressLine progress("cowtrace diff");
        if (!load_trace({args->old_trace}, old_tree, error, progress) ||
            !load_trace({args->new_trace}, new_tree, error, progress)) {
            progress.done();
            std::cerr << "cowtrace diff: " << error << "\n";
            return kExitBadInput;
        }
        progress.done();
        diff::TraceDiff d = diff::diff_runs(old_tree, new_tree);
        diff::DiffPaths paths{args->old_trace, args->new_trace};
        std::ostringstream rendered;
        if (args->format == "json") {
            rendered << diff::diff_to_json(d, paths).dump(2, ' ', false,
                                                          nlohmann::json::error_handler_t::replace)
                     << "\n";
        } else {
            diff::write_diff_text(d, paths, rendered);
        }
        if (args->output.empty()) {
            std::cout << rendered.view() << std::flush;
        } else {
            std::ofstream file(args->output, std::ios::binary);
            file << rendered.view();
            file.close();
            if (!file) {
                std::cerr << "cowtrace diff: cannot write " << args->output << "\n";
                return kExitBadInput;
            }
        }
        for (const auto* t : {&old_tree, &new_tree}) {
            if (!t->reader_error.empty())
                std::cerr << "cowtrace diff: warning: "
                          << (t == &old_tree ? args->old_trace : args->new_trace)
                          << " is damaged, comparing its valid part: " << t->reader_error << "\n";
        }
        return 0;
    };
}

}  // namespace cowtrace::cli

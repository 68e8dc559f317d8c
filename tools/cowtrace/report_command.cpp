// cowtrace report: show a trace (and spool files) in one of several formats.
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "model/tree_builder.hpp"
#include "report/json_report.hpp"
#include "report/text_report.hpp"

namespace cowtrace::cli {

CommandMain add_report_command(CLI::App& app) {
    struct Args {
        std::vector<std::string> inputs;
        std::string format = "text";
        std::string output;
        bool argv = false;
        bool no_compact = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* rep = app.add_subcommand("report", "Show a trace");
    rep->add_option("TRACE", args->inputs, "Trace file, and any spool files to merge")
        ->required()
        ->check(CLI::ExistingFile);
    rep->add_option("-f,--format", args->format, "Output format")
        ->check(CLI::IsMember({"text", "json"}))
        ->default_val("text");
    rep->add_option("-o,--output", args->output, "Write here instead of standard output");
    rep->add_flag("-a,--arguments", args->argv, "Show command-line arguments (text)");
    rep->add_flag("-c,--no-compact", args->no_compact, "Do not fold identical siblings (text)");
    rep->footer("Exit status: 0 on success, 1 if a trace cannot be read, 2 on a usage error.");
    return [args]() -> int {
        model::ProcessTree tree;
        std::string error;
        if (!model::build_process_tree(args->inputs, tree, error)) {
            std::cerr << "cowtrace report: " << error << "\n";
            return kExitBadInput;
        }
        std::ofstream file;
        std::ostream* out = &std::cout;
        if (!args->output.empty()) {
            file.open(args->output);
            if (!file) {
                std::cerr << "cowtrace report: cannot write " << args->output << "\n";
                return kExitBadInput;
            }
            out = &file;
        }
        if (args->format == "json") {
            *out << report::to_json(tree).dump(2) << "\n";
        } else {
            report::TextOptions o;
            o.show_argv = args->argv;
            o.compact = !args->no_compact;
            report::write_text(tree, o, *out);
        }
        if (!tree.reader_error.empty()) {
            std::cerr << "cowtrace report: warning: trace damaged, showing the valid part: "
                      << tree.reader_error << "\n";
        }
        return 0;
    };
}

}  // namespace cowtrace::cli

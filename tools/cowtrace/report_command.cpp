// cowtrace report: show a trace (and spool files) in one of several formats, all views of the
// same model.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "report/folded_stacks.hpp"
#include "report/html_report.hpp"
#include "report/json_report.hpp"
#include "report/perfetto_report.hpp"
#include "report/text_report.hpp"
#include "trace_loading.hpp"

namespace cowtrace::cli {

namespace {

void render(const model::ProcessTree& tree, const std::string& format, const std::string& weight,
            const report::TextOptions& text, std::ostream& out) {
    if (format == "perfetto") {
        report::write_perfetto(tree, out);
    } else if (format == "html") {
        report::write_html(tree, out);
    } else if (format == "folded") {
        if (weight == "copies") {
            report::write_folded_copies(tree, out);
        } else {
            report::write_folded(tree, out);
        }
    } else {
        report::write_text(tree, text, out);
    }
}

void warn_if_damaged(const model::ProcessTree& tree) {
    if (!tree.reader_error.empty()) {
        std::cerr << "cowtrace report: warning: trace damaged, showing the valid part: "
                  << tree.reader_error << "\n";
    }
}

std::string cannot_write(const std::string& path, int err) {
    return "cowtrace report: cannot write " + path +
           (err != 0 ? std::string(": ") + strerror(err) : std::string());
}

// JSON goes to its destination as the model is walked: held whole first, as the other formats
// are, the report of 100,000 processes took a quarter of a gigabyte more (docs/PERFORMANCE.md,
// "Reports at scale"). A file that could not be written whole is removed rather than left half
// written.
int write_json_report(const model::ProcessTree& tree, const std::string& output,
                      ProgressLine& progress) {
    if (output.empty()) {
        // The report and the progress line must not interleave on one terminal.
        if (isatty(STDOUT_FILENO) == 1) progress.done();
        report::write_json(tree, std::cout);
        std::cout << "\n" << std::flush;
        progress.done();
        if (!std::cout) {
            std::cerr << "cowtrace report: cannot write to standard output\n";
            return kExitBadInput;
        }
        return 0;
    }
    errno = 0;
    std::ofstream file(output, std::ios::binary);
    int err = errno;
    if (file) {
        report::write_json(tree, file);
        file << "\n";
        file.close();
        if (!file) err = errno;
    }
    progress.done();
    if (!file) {
        struct stat st {};
        if (stat(output.c_str(), &st) == 0 && S_ISREG(st.st_mode)) unlink(output.c_str());
        std::cerr << cannot_write(output, err) << "\n";
        return kExitBadInput;
    }
    return 0;
}

}  // namespace

CommandMain add_report_command(CLI::App& app) {
    struct Args {
        std::vector<std::string> inputs;
        std::string format = "text";
        std::string weight = "fork-sites";
        std::string output;
        bool argv = false;
        bool no_compact = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* rep = app.add_subcommand("report", "Show a trace");
    rep->add_option("TRACE", args->inputs, "Trace file, and any spool files to merge")->required();
    rep->add_option("-f,--format", args->format, "text, json, perfetto, html or folded (below)")
        ->check(CLI::IsMember({"text", "json", "perfetto", "html", "folded"}))
        ->default_val("text");
    CLI::Option* weight_option =
        rep->add_option("--weight", args->weight,
                        "folded: fork-sites (the fork call sites, by what their children made the "
                        "tree copy) or copies (the code whose page faults copied, by side)")
            ->check(CLI::IsMember({"fork-sites", "copies"}))
            ->default_val("fork-sites");
    rep->add_option("-o,--output", args->output, "Write here instead of standard output");
    rep->add_flag("-a,--arguments", args->argv, "Show command-line arguments (text)");
    rep->add_flag("-c,--no-compact", args->no_compact, "Do not fold identical siblings (text)");
    rep->footer(
        "Formats (docs/REPORTS.md):\n"
        "  text      the process tree (pstree-like) with each fork's copy-on-write summary\n"
        "  json      the whole model, for scripts\n"
        "  perfetto  Chrome Trace Event JSON: open in ui.perfetto.dev or chrome://tracing\n"
        "  html      one self-contained page, usable offline: tree, timelines, regions, call "
        "sites\n"
        "  folded    fork call sites weighted by copied bytes (--weight copies: the code that\n"
        "            copied, from sampled page faults): flamegraph.pl, speedscope\n\n"
        "Progress is shown on stderr when it is a terminal and the report takes a while.\n"
        "Exit status: 0 on success, 1 if a trace cannot be read or the output cannot be written,\n"
        "2 on a usage error.");
    return [args, weight_option]() -> int {
        if (weight_option->count() > 0 && args->format != "folded") {
            std::cerr << "cowtrace report: --weight is for --format folded\n";
            return kExitUsage;
        }
        model::ProcessTree tree;
        std::string error;
        ProgressLine progress("cowtrace report");
        if (!load_trace(args->inputs, tree, error, progress)) {
            progress.done();
            std::cerr << "cowtrace report: " << error << "\n";
            return kExitBadInput;
        }
        progress.phase("writing the " + args->format + " report");
        if (args->format == "json") {
            int status = write_json_report(tree, args->output, progress);
            if (status != 0) return status;
            warn_if_damaged(tree);
            return 0;
        }
        report::TextOptions text;
        text.show_argv = args->argv;
        text.compact = !args->no_compact;
        // Rendered whole before anything is written: the progress line and a report on the same
        // terminal must not interleave, and a failed write leaves no half file.
        std::ostringstream rendered;
        render(tree, args->format, args->weight, text, rendered);
        progress.done();
        if (args->output.empty()) {
            std::cout << rendered.view() << std::flush;
            if (!std::cout) {
                std::cerr << "cowtrace report: cannot write to standard output\n";
                return kExitBadInput;
            }
        } else {
            errno = 0;
            std::ofstream file(args->output, std::ios::binary);
            int open_errno = errno;
            file << rendered.view();
            file.close();
            if (!file) {
                std::cerr << cannot_write(args->output, open_errno != 0 ? open_errno : errno)
                          << "\n";
                return kExitBadInput;
            }
        }
        if (args->format == "folded" && rendered.view().empty()) {
            // An empty file is valid folded input, but flame graph tools refuse it: say why.
            std::cerr << "cowtrace report: nothing to fold: "
                      << (args->weight == "copies"
                              ? std::string("no fork episode has copies attributed to code "
                                            "(recorded with --attribution off, or perf events "
                                            "forbidden?)")
                          : tree.episodes.empty()
                              ? std::string("the trace has no fork episode")
                              : "no fork copied anything (" + std::to_string(tree.episodes.size()) +
                                    " fork episodes)")
                      << "\n";
        }
        warn_if_damaged(tree);
        return 0;
    };
}

}  // namespace cowtrace::cli

// cowtrace: what fork() really costs a running program.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <string>

#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{
        "cowtrace — rebuilds the process tree of a program and what each fork() cost it in\n"
        "copy-on-write memory.\n\n"
        "  cowtrace run [options] -- COMMAND [ARGS...]   trace a command\n"
        "  cowtrace record -o TRACE --socket PATH        collect from programs started elsewhere\n"
        "  cowtrace attach PID... [-o TRACE]             observe running processes from outside\n"
        "  cowtrace report TRACE [--format ...]          show a trace: text, json, perfetto, html, "
        "folded\n"
        "  cowtrace check TRACE --max-cow SIZE ...       fail (for CI) when a trace breaks a "
        "budget\n"
        "  cowtrace diff OLD NEW [--format json]         what grew between two runs\n"};
    app.name("cowtrace");
    app.set_version_flag("--version", "cowtrace 0.1.0");
    app.require_subcommand(1);
    std::map<CLI::App*, cowtrace::cli::CommandMain> mains;
    cowtrace::cli::CommandMain run = cowtrace::cli::add_run_command(app);
    cowtrace::cli::CommandMain record = cowtrace::cli::add_record_command(app);
    cowtrace::cli::CommandMain attach = cowtrace::cli::add_attach_command(app);
    cowtrace::cli::CommandMain report = cowtrace::cli::add_report_command(app);
    cowtrace::cli::CommandMain check = cowtrace::cli::add_check_command(app);
    cowtrace::cli::CommandMain diff = cowtrace::cli::add_diff_command(app);
    if (argc > 1 && std::string(argv[1]) == "run") {
        argc = cowtrace::cli::split_run_command_line(argc, argv);
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return cowtrace::cli::kExitUsage;
    }
    for (CLI::App* sub : app.get_subcommands()) {
        if (sub->get_name() == "run") return run();
        if (sub->get_name() == "record") return record();
        if (sub->get_name() == "attach") return attach();
        if (sub->get_name() == "report") return report();
        if (sub->get_name() == "check") return check();
        if (sub->get_name() == "diff") return diff();
    }
    return cowtrace::cli::kExitUsage;
}

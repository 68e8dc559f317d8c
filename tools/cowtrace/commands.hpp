// The cowtrace subcommands. Each registers its options on the CLI and returns the function that
// runs it once the command line is parsed.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace cowtrace::cli {

using CommandMain = std::function<int()>;

// Exit codes of cowtrace itself (the `run` command otherwise exits with the command's status).
inline constexpr int kExitUsage = 2;          // bad command line
inline constexpr int kExitBadInput = 1;       // unreadable or invalid trace
inline constexpr int kExitToolFailure = 125;  // cowtrace could not do its job (like env(1))
inline constexpr int kExitCannotRun = 127;    // the command was not found / could not start

CommandMain add_run_command(CLI::App& app);
// `run` takes everything after its options as the command, untouched: main() gives CLI11 only
// argv[0..returned index) and the rest becomes run_command_words().
int split_run_command_line(int argc, char** argv);
const std::vector<std::string>& run_command_words();
CommandMain add_record_command(CLI::App& app);
CommandMain add_attach_command(CLI::App& app);
CommandMain add_report_command(CLI::App& app);
CommandMain add_check_command(CLI::App& app);
CommandMain add_diff_command(CLI::App& app);

}  // namespace cowtrace::cli

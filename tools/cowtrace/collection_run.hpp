// What the commands that collect without a command of their own (`record`, `attach`) share:
// the --interval check, and a collection run with its status line and its ending words.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "collector/session.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace cowtrace::cli {

// --interval TEXT (10ms or more) into ns; false after saying why, prefixed by `who`.
// --duration: "90s", "5m", "1h"; a bare number is seconds. False, having said why on
// stderr, for anything else.
bool run_duration(const std::string& text, const char* who, uint64_t& ns);

bool sampling_interval(const std::string& text, const char* who, uint64_t& ns);
// --cpu-share TEXT ("2%", "10%", "10") into a share of one core; false after saying why.
bool sampling_cpu_share(const std::string& text, const char* who, double& share);
inline constexpr const char* kCpuShareHelp =
    "At most this share of one core for sampling copy-on-write and memory (the interval "
    "stretches to keep it; exact periodic censuses come as often as it allows)";

class LiveView;

// --attribution off|sampled|full, the same for run, record and attach; mode holds the default
// (sampled for run and record, off for attach: see attach_command.cpp).
CLI::Option* add_attribution_option(CLI::App& command, std::string& mode);

// Runs the session, keeping a status line (on a terminal, unless quiet) with describe()'s
// words, or the live view when one is given (its q ends the collection); returns the exit
// status, after saying what failed (prefixed by `who`) or where the trace was written.
int run_collection(collector::SessionOptions opt, const std::string& trace_path, const char* who,
                   const std::function<std::string(const collector::CollectionStatus&)>& describe,
                   LiveView* live = nullptr);

// How often a live view is redrawn: at the sampling interval, but not more than 20 times a
// second (a 10 ms interval would redraw faster than anyone reads).
uint64_t live_refresh_ns(uint64_t interval_ns);

}  // namespace cowtrace::cli

// The options that make `cowtrace record` an agent that runs for weeks: Prometheus metrics
// (an HTTP endpoint, a node_exporter textfile) and trace rotation.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "collector/session.hpp"

namespace cowtrace::cli {

struct AgentFlags {
    std::string metrics_listen;
    std::string metrics_file;
    std::string metrics_interval = "15s";
    std::string rotate_size;
    std::string rotate_age;
    unsigned keep = 7;
};

// Registers the options above in the "Agent" group of cmd.
void add_agent_options(CLI::App& cmd, AgentFlags& flags);

// Puts the flags into the session's options; false with a one-line error for a value that does
// not parse.
bool agent_settings_from_flags(const AgentFlags& flags, collector::SessionOptions& options,
                               std::string& error);

}  // namespace cowtrace::cli

#include "episode_line.hpp"

#include <cstdio>

#include "report/byte_size.hpp"
#include "terminal_text.hpp"

namespace cowtrace::live {

std::string episode_line(const EndedEpisode& e) {
    std::string command = printable(e.command);
    char after[32];
    snprintf(after, sizeof after, "%.1f s", static_cast<double>(e.duration_ns) / 1e9);
    std::string line = "fork " + std::to_string(e.parent) + " → " + std::to_string(e.child);
    if (!command.empty()) line += " (" + command + ")";
    line += " ended after " + std::string(after) + ": ";
    if (!e.measured) return line + "not measured (it ended before its first sample)";
    return line + "shared " + report::format_bytes(e.shared_bytes) + ", copied " +
           (e.estimated ? "about " : "") + report::format_bytes(e.copied_bytes) + " (" +
           report::format_percent(e.copied_bytes, e.shared_bytes) + ")";
}

}  // namespace cowtrace::live

#include "folded_stacks.hpp"

#include "call_sites.hpp"
#include "process_labels.hpp"

namespace cowtrace::report {

namespace {

// ';' separates frames and the line ends the stack; a frame may hold spaces (flamegraph.pl
// splits the count off at the last one).
std::string folded_frame(const std::string& frame) {
    std::string out = frame.empty() ? "?" : frame;
    for (char& c : out) {
        if (c == ';' || c == '\n' || c == '\r') c = '_';
    }
    return out;
}

}  // namespace

void write_folded(const model::ProcessTree& tree, std::ostream& out) {
    ProcessLabels labels(tree);
    for (const ForkCallSite& site : fork_call_sites(tree, labels)) {
        if (site.copied_bytes_peak_total == 0) continue;
        std::string line = folded_frame(site.program);
        if (site.frames.empty()) line += ";[call site unknown]";
        for (const auto& f : site.frames) line += ";" + folded_frame(f);
        line += ";" + folded_frame(site.how);
        out << line << " " << site.copied_bytes_peak_total << "\n";
    }
}

}  // namespace cowtrace::report

#include "folded_stacks.hpp"

#include <map>
#include <optional>

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

void write_folded_copies(const model::ProcessTree& tree, std::ostream& out) {
    ProcessLabels labels(tree);
    std::map<std::string, uint64_t> weights;  // sorted: the same trace folds the same way
    for (const auto& e : tree.episodes) {
        for (const auto& p : e.copy_paths()) {
            if (p.copied_bytes == 0) continue;
            bool parent = p.side == wire::CopySide::kParent;
            std::optional<size_t> who =
                parent ? labels.creator(e.child_index) : std::optional<size_t>(e.child_index);
            std::string line = folded_frame(who ? labels.name_at(*who, e.t_ns)
                                                : std::to_string(parent ? e.parent : e.child));
            line += parent ? ";[parent]" : ";[child]";
            for (auto f = p.frames.rbegin(); f != p.frames.rend(); ++f)
                line += ";" + folded_frame(*f);
            weights[line] += p.copied_bytes;
        }
    }
    for (const auto& [line, bytes] : weights) out << line << " " << bytes << "\n";
}

}  // namespace cowtrace::report

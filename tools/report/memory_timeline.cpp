#include "memory_timeline.hpp"

#include <algorithm>

namespace cowtrace::report {

bool has_memory_samples(const model::ProcessTree& tree) {
    return std::any_of(tree.processes.begin(), tree.processes.end(),
                       [](const model::Process& p) { return !p.memory.empty(); });
}

ProcessMemoryPeak peak_rss(const model::ProcessTree& tree) {
    ProcessMemoryPeak peak;
    for (size_t i = 0; i < tree.processes.size(); ++i) {
        for (const auto& m : tree.processes[i].memory) {
            if (m.rss_bytes > peak.rss_bytes) peak = {m.rss_bytes, m.t_ns, i};
        }
    }
    return peak;
}

std::vector<TreePssPoint> tree_pss_series(const model::ProcessTree& tree) {
    struct Change {
        uint64_t t_ns;
        size_t process;
        uint64_t pss_bytes;  // the process's contribution from t_ns on
    };
    std::vector<Change> changes;
    for (size_t i = 0; i < tree.processes.size(); ++i) {
        const model::Process& p = tree.processes[i];
        if (p.memory.empty()) continue;
        for (const auto& m : p.memory) changes.push_back({m.t_ns, i, m.pss_bytes});
        // A sample can arrive after the recorded end (the census raced the exit): the end wins.
        if (p.end_ns && !p.still_running)
            changes.push_back({std::max(*p.end_ns, p.memory.back().t_ns), i, 0});
    }
    std::stable_sort(changes.begin(), changes.end(),
                     [](const Change& a, const Change& b) { return a.t_ns < b.t_ns; });
    std::vector<uint64_t> current(tree.processes.size(), 0);
    uint64_t total = 0;
    std::vector<TreePssPoint> series;
    for (size_t i = 0; i < changes.size(); ++i) {
        const Change& c = changes[i];
        total = total - current[c.process] + c.pss_bytes;
        current[c.process] = c.pss_bytes;
        // One point per instant: changes at the same time are one state.
        if (i + 1 < changes.size() && changes[i + 1].t_ns == c.t_ns) continue;
        series.push_back({c.t_ns, total});
    }
    return series;
}

TreePssPoint peak_tree_pss(const std::vector<TreePssPoint>& series) {
    TreePssPoint peak;
    for (const auto& p : series) {
        if (p.pss_bytes > peak.pss_bytes) peak = p;
    }
    return peak;
}

}  // namespace cowtrace::report

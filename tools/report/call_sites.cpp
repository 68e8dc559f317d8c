#include "call_sites.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

namespace cowtrace::report {

std::string frame_label(const model::ProcessTree& tree, pid_t creator, uint64_t ip) {
    auto sym = tree.symbols.find({creator, ip});
    if (sym != tree.symbols.end() && !sym->second.empty()) return sym->second;
    return fmt::format("{:#x}", ip);
}

std::vector<std::string> frame_labels(const model::ProcessTree& tree, pid_t creator, uint64_t ip) {
    std::vector<std::string> labels{frame_label(tree, creator, ip)};
    auto inlined = tree.symbols_inlined_into.find({creator, ip});
    if (inlined != tree.symbols_inlined_into.end())
        labels.insert(labels.end(), inlined->second.begin(), inlined->second.end());
    return labels;
}

std::vector<std::string> creation_frames(const model::ProcessTree& tree, const model::Process& p) {
    std::vector<std::string> frames;
    frames.reserve(p.call_site.size());
    for (auto it = p.call_site.rbegin(); it != p.call_site.rend(); ++it) {
        std::vector<std::string> labels = frame_labels(tree, p.ppid, *it);
        frames.insert(frames.end(), labels.rbegin(), labels.rend());
    }
    return frames;
}

std::string call_site_text(const model::ProcessTree& tree, const model::Process& p,
                           size_t max_frames) {
    if (p.call_site.empty()) return "call site unknown";
    std::vector<std::string> frames;
    for (uint64_t ip : p.call_site) {
        for (std::string& label : frame_labels(tree, p.ppid, ip))
            frames.push_back(std::move(label));
        if (frames.size() > max_frames) break;
    }
    std::string out;
    for (size_t i = 0; i < frames.size() && i < max_frames; ++i) {
        if (i) out += " ← ";
        out += frames[i];
    }
    if (frames.size() > max_frames) out += " ← …";
    return out;
}

std::vector<ForkCallSite> fork_call_sites(const model::ProcessTree& tree,
                                          const ProcessLabels& labels) {
    using Key = std::tuple<std::string, std::vector<std::string>, std::string>;
    std::map<Key, ForkCallSite> sites;
    for (size_t i = 0; i < tree.episodes.size(); ++i) {
        const model::ForkEpisode& e = tree.episodes[i];
        if (e.child_index >= tree.processes.size()) continue;
        const model::Process& child = tree.processes[e.child_index];
        std::optional<size_t> creator = labels.creator(e.child_index);
        // What the creator ran when it forked: it may have exec'd another program since.
        std::string program =
            creator ? labels.name_at(*creator, child.start_ns) : labels.name(e.child_index);
        std::string how = model::create_how_name(child.how);
        Key key{program, creation_frames(tree, child), how};
        ForkCallSite& site = sites[key];
        if (site.forks == 0) {
            site.program = program;
            site.frames = std::get<1>(key);
            site.how = how;
        }
        ++site.forks;
        if (e.census == model::ForkEpisode::Census::kShortLived) ++site.short_lived;
        if (e.parent_ended_first_ns()) ++site.parent_ended_first;
        site.copied_bytes_peak_total += e.copied_bytes_peak;
        site.copied_bytes_peak_max = std::max(site.copied_bytes_peak_max, e.copied_bytes_peak);
        site.shared_bytes_at_fork_total += e.shared_bytes_at_fork;
        site.episodes.push_back(i);
    }
    std::vector<ForkCallSite> out;
    out.reserve(sites.size());
    for (auto& [key, site] : sites) out.push_back(std::move(site));
    std::stable_sort(out.begin(), out.end(), [](const ForkCallSite& a, const ForkCallSite& b) {
        return a.copied_bytes_peak_total > b.copied_bytes_peak_total;
    });
    return out;
}

}  // namespace cowtrace::report

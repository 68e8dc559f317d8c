#include "trace_diff.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "report/call_sites.hpp"
#include "report/memory_timeline.hpp"
#include "report/process_labels.hpp"

namespace cowtrace::diff {

namespace {

using model::ProcessTree;
using report::ProcessLabels;

// A frame the collector could not name is a raw address, which address-space randomisation
// changes from run to run: it cannot tell two runs' sites apart, so it matches any.
std::string comparable_frame(const std::string& label) {
    bool raw = label.size() > 2 && label.compare(0, 2, "0x") == 0 &&
               label.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos;
    return raw ? "?" : label;
}

using SiteKey = std::tuple<std::string, std::vector<std::string>, std::string>;

std::map<SiteKey, ForkSiteFigures> fork_sites_of(const ProcessTree& tree,
                                                 const ProcessLabels& labels) {
    std::map<SiteKey, ForkSiteFigures> sites;
    for (size_t i = 0; i < tree.episodes.size(); ++i) {
        const model::ForkEpisode& e = tree.episodes[i];
        if (e.child_index >= tree.processes.size()) continue;
        const model::Process& child = tree.processes[e.child_index];
        std::optional<size_t> creator = labels.creator(e.child_index);
        // What the creator ran when it forked: it may have exec'd another program since.
        std::string program =
            creator ? labels.name_at(*creator, child.start_ns) : labels.name(e.child_index);
        std::vector<std::string> frames;
        for (const auto& f : report::creation_frames(tree, child))
            frames.push_back(comparable_frame(f));
        ForkSiteFigures& site = sites[{program, frames, model::create_how_name(child.how)}];
        if (site.forks == 0) site.call_site = report::call_site_text(tree, child);
        ++site.forks;
        if (e.census == model::ForkEpisode::Census::kShortLived) continue;
        ++site.measured;
        site.copied_bytes_total += e.copied_bytes_peak;
        if (site.measured == 1 || e.copied_bytes_peak > site.largest_copied_bytes) {
            site.largest_copied_bytes = e.copied_bytes_peak;
            site.largest_child = e.child;
            site.largest_episode = i;
            site.largest_shared_bytes = e.shared_bytes_at_fork;
            site.largest_command = labels.command_line(e.child_index);
        }
    }
    return sites;
}

std::vector<ForkSiteDiff> line_up_fork_sites(const ProcessTree& old_tree,
                                             const ProcessLabels& old_labels,
                                             const ProcessTree& new_tree,
                                             const ProcessLabels& new_labels) {
    std::map<SiteKey, ForkSiteDiff> sites;
    auto add = [&sites](std::map<SiteKey, ForkSiteFigures> run, bool is_new) {
        for (auto& [key, figures] : run) {
            ForkSiteDiff& site = sites[key];
            std::tie(site.program, site.frames, site.how) = key;
            (is_new ? site.new_run : site.old_run) = std::move(figures);
        }
    };
    add(fork_sites_of(old_tree, old_labels), false);
    add(fork_sites_of(new_tree, new_labels), true);
    std::vector<ForkSiteDiff> out;
    for (auto& [key, site] : sites) out.push_back(std::move(site));
    auto largest = [](const std::optional<ForkSiteFigures>& f) {
        return f ? static_cast<int64_t>(f->largest_copied_bytes) : 0;
    };
    std::stable_sort(out.begin(), out.end(), [&](const ForkSiteDiff& a, const ForkSiteDiff& b) {
        return largest(a.new_run) - largest(a.old_run) > largest(b.new_run) - largest(b.old_run);
    });
    return out;
}

using GroupKey = std::pair<std::string, std::string>;  // program, command line

std::map<GroupKey, ProcessGroupFigures> process_groups_of(const ProcessTree& tree,
                                                          const ProcessLabels& labels) {
    std::map<GroupKey, ProcessGroupFigures> groups;
    for (size_t i = 0; i < tree.processes.size(); ++i) {
        const model::Process& p = tree.processes[i];
        std::string command = labels.command_line(i);
        ProcessGroupFigures& g = groups[{labels.name(i), command}];
        ++g.count;
        g.command = command;
        for (const auto& m : tree.memory_of(p)) {
            if (m.rss_bytes > g.peak_rss_bytes) {
                g.peak_rss_bytes = m.rss_bytes;
                g.peak_rss_pid = p.pid;
            }
            if (m.pss_bytes > g.peak_pss_bytes) {
                g.peak_pss_bytes = m.pss_bytes;
                g.peak_pss_pid = p.pid;
            }
        }
    }
    return groups;
}

// Same program and command line first; then what is left of one program in each run, the
// largest groups paired first (a changed argument must not make a server look new).
std::vector<ProcessGroupDiff> line_up_processes(const ProcessTree& old_tree,
                                                const ProcessLabels& old_labels,
                                                const ProcessTree& new_tree,
                                                const ProcessLabels& new_labels) {
    auto old_groups = process_groups_of(old_tree, old_labels);
    auto new_groups = process_groups_of(new_tree, new_labels);
    std::vector<ProcessGroupDiff> out;
    std::map<std::string, std::vector<ProcessGroupFigures>> old_left, new_left;
    for (auto& [key, g] : old_groups) {
        auto match = new_groups.find(key);
        if (match == new_groups.end()) {
            old_left[key.first].push_back(std::move(g));
            continue;
        }
        out.push_back({key.first, std::move(g), std::move(match->second), false});
        new_groups.erase(match);
    }
    for (auto& [key, g] : new_groups) new_left[key.first].push_back(std::move(g));
    auto bigger = [](const ProcessGroupFigures& a, const ProcessGroupFigures& b) {
        return std::tie(a.count, a.peak_rss_bytes) > std::tie(b.count, b.peak_rss_bytes);
    };
    for (auto& [program, olds] : old_left) {
        std::stable_sort(olds.begin(), olds.end(), bigger);
        auto news_it = new_left.find(program);
        std::vector<ProcessGroupFigures> none;
        std::vector<ProcessGroupFigures>& news = news_it != new_left.end() ? news_it->second : none;
        std::stable_sort(news.begin(), news.end(), bigger);
        for (size_t i = 0; i < std::max(olds.size(), news.size()); ++i) {
            ProcessGroupDiff d{program, std::nullopt, std::nullopt, false};
            if (i < olds.size()) d.old_run = std::move(olds[i]);
            if (i < news.size()) d.new_run = std::move(news[i]);
            d.matched_by_program_only = d.old_run && d.new_run;
            out.push_back(std::move(d));
        }
        news.clear();
    }
    for (auto& [program, news] : new_left) {
        for (auto& g : news) out.push_back({program, std::nullopt, std::move(g), false});
    }
    auto rss = [](const std::optional<ProcessGroupFigures>& f) {
        return f ? static_cast<int64_t>(f->peak_rss_bytes) : 0;
    };
    std::stable_sort(out.begin(), out.end(),
                     [&](const ProcessGroupDiff& a, const ProcessGroupDiff& b) {
                         return rss(a.new_run) - rss(a.old_run) > rss(b.new_run) - rss(b.old_run);
                     });
    return out;
}

RunFigures figures_of(const ProcessTree& tree, const ProcessLabels& labels) {
    RunFigures r;
    r.command = !tree.command.empty()     ? report::command_text(tree.command)
                : !tree.processes.empty() ? labels.command_line(0)
                                          : "";
    r.processes = tree.processes.size();
    r.forks = tree.episodes.size();
    for (const auto& e : tree.episodes) {
        if (e.census == model::ForkEpisode::Census::kShortLived) continue;
        ++r.measured_forks;
        r.copied_bytes_total += e.copied_bytes_peak;
    }
    r.census = tree.census_mode != model::CensusMode::kOff;
    r.memory_sampled = report::has_memory_samples(tree);
    if (r.memory_sampled) {
        report::TreePssPoint peak = report::peak_tree_pss(report::tree_pss_series(tree));
        r.tree_pss_peak_bytes = peak.pss_bytes;
        r.tree_pss_peak_t_ns = peak.t_ns;
        report::ProcessMemoryPeak rss = report::peak_rss(tree);
        r.peak_rss_bytes = rss.rss_bytes;
        if (rss.rss_bytes && rss.process < tree.processes.size())
            r.peak_rss_pid = tree.processes[rss.process].pid;
    }
    return r;
}

}  // namespace

TraceDiff diff_runs(const ProcessTree& old_tree, const ProcessTree& new_tree) {
    ProcessLabels old_labels(old_tree), new_labels(new_tree);
    TraceDiff d;
    d.old_run = figures_of(old_tree, old_labels);
    d.new_run = figures_of(new_tree, new_labels);
    d.fork_sites = line_up_fork_sites(old_tree, old_labels, new_tree, new_labels);
    d.processes = line_up_processes(old_tree, old_labels, new_tree, new_labels);
    return d;
}

std::optional<double> growth_percent(uint64_t old_value, uint64_t new_value) {
    if (old_value == 0) return std::nullopt;
    return 100.0 * (static_cast<double>(new_value) - static_cast<double>(old_value)) /
           static_cast<double>(old_value);
}

std::string growth_text(uint64_t old_value, uint64_t new_value) {
    if (old_value == new_value) return "0%";
    std::optional<double> pct = growth_percent(old_value, new_value);
    if (!pct) return "new";
    return fmt::format("{:+.1f}%", *pct);
}

std::string site_text(const ForkSiteDiff& site, size_t max_frames) {
    std::string where;
    size_t shown = 0;
    for (auto it = site.frames.rbegin(); it != site.frames.rend() && shown < max_frames;
         ++it, ++shown) {
        where += (shown ? " ← " : "") + *it;
    }
    if (site.frames.size() > max_frames) where += " ← …";
    if (where.empty()) where = "an unknown call site";
    return fmt::format("{} {} at {}", site.program, site.how, where);
}

}  // namespace cowtrace::diff

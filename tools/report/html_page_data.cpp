#include "html_page_data.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "call_sites.hpp"
#include "copy_totals.hpp"
#include "memory_timeline.hpp"
#include "process_labels.hpp"
#include "sibling_groups.hpp"
#include "step_series.hpp"
#include "trace_facts.hpp"

namespace cowtrace::report {

namespace {

using model::ForkEpisode;
using model::Process;
using nlohmann::json;

// A chart is under a thousand pixels wide: more points than this draw nothing more.
constexpr size_t kChartBuckets = 800;
constexpr size_t kMaxSamplesPerEpisode = 2000;
constexpr size_t kCopyPathsShown = 10;
constexpr size_t kMaxCallSites = 100;
constexpr size_t kMaxNotes = 200;

// Every string once; the data refers to it by its index.
class StringTable {
public:
    size_t index(const std::string& s) {
        auto [it, added] = index_.try_emplace(s, strings_.size());
        if (added) strings_.push_back(s);
        return it->second;
    }
    json take() { return std::move(strings_); }

private:
    json strings_ = json::array();
    std::unordered_map<std::string, size_t> index_;
};

json spread_json(const FigureSpread& s) {
    if (s.count == 0) return nullptr;
    return json::array({s.min, s.median, s.max, s.count, s.total});
}

// [first, last, first, last, …]: runs of consecutive pids.
json pid_ranges(const std::vector<pid_t>& sorted_pids) {
    json out = json::array();
    for (size_t a = 0; a < sorted_pids.size();) {
        size_t b = a;
        while (b + 1 < sorted_pids.size() && sorted_pids[b + 1] == sorted_pids[b] + 1) ++b;
        out.push_back(sorted_pids[a]);
        out.push_back(sorted_pids[b]);
        a = b + 1;
    }
    return out;
}

json flat_points(const std::vector<StepPoint>& points) {
    json out = json::array();
    for (const StepPoint& p : points) {
        out.push_back(p.t_ns);
        out.push_back(p.value);
    }
    return out;
}

const char* end_name(ForkEpisode::End e) {
    switch (e) {
        case ForkEpisode::End::kExit:
            return "exit";
        case ForkEpisode::End::kExec:
            return "exec";
        case ForkEpisode::End::kRunning:
            break;
    }
    return "running";
}

// "ok" for exit 0, "bad" for another code or a signal, "" when unknown or still running.
const char* exit_class(const Process& p) {
    if (p.still_running) return "";
    switch (p.exit.kind) {
        case model::ExitStatus::Kind::kCode:
            return p.exit.code == 0 ? "ok" : "bad";
        case model::ExitStatus::Kind::kSignal:
            return "bad";
        case model::ExitStatus::Kind::kUnknown:
            break;
    }
    return "";
}

class PageData {
public:
    explicit PageData(const model::ProcessTree& tree)
        : tree_(tree), labels_(tree), groups_(tree, labels_, SiblingFolding{}) {}

    json build() {
        pss_series_ = tree_pss_series(tree_);
        rank_episodes();
        json nodes = tree_nodes();
        json episodes = detailed_episodes();
        json out{{"summary", summary()},
                 {"trace", trace_info()},
                 {"nodes", std::move(nodes)},
                 {"groups", std::move(groups_json_)},
                 {"episodes", std::move(episodes)},
                 {"episodes_more", episodes_more()},
                 {"chart", chart()},
                 {"call_sites", call_sites()}};
        out["strings"] = strings_.take();
        return out;
    }

private:
    // Measured episodes, the costliest first; the first kDetailedEpisodes are given in full.
    void rank_episodes() {
        for (size_t i = 0; i < tree_.episodes.size(); ++i) {
            if (tree_.episodes[i].census == ForkEpisode::Census::kMeasured) ranked_.push_back(i);
        }
        std::stable_sort(ranked_.begin(), ranked_.end(), [this](size_t a, size_t b) {
            const ForkEpisode &x = tree_.episodes[a], &y = tree_.episodes[b];
            if (x.copied_bytes_peak != y.copied_bytes_peak)
                return x.copied_bytes_peak > y.copied_bytes_peak;
            return x.t_ns < y.t_ns;
        });
        detailed_of_.assign(tree_.episodes.size(), -1);
        for (size_t r = 0; r < ranked_.size() && r < kDetailedEpisodes; ++r)
            detailed_of_[ranked_[r]] = static_cast<long>(r);
    }

    long detailed_index(size_t process) const {
        const ForkEpisode* e = groups_.episode_of(process);
        if (!e) return -1;
        return detailed_of_[static_cast<size_t>(e - tree_.episodes.data())];
    }

    // The tree in depth-first order, a node per process shown and per folded group, as columns:
    // a node's parent comes before it and siblings keep their order.
    json tree_nodes() {
        node_of_.assign(tree_.processes.size(), -1);
        std::vector<std::pair<size_t, long>> stack;  // (process, parent node)
        std::vector<size_t> roots = tree_.roots();
        for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.push_back({*it, -1});
        std::vector<bool> seen(tree_.processes.size(), false);
        while (!stack.empty()) {
            auto [index, parent] = stack.back();
            stack.pop_back();
            if (index >= kGroupMarker) {
                add_group_node(pending_groups_[index - kGroupMarker]);
                continue;
            }
            if (seen[index]) continue;  // a damaged trace could loop
            seen[index] = true;
            long node = add_process_node(index, parent);
            std::vector<SiblingRun> runs = groups_.runs_of(index);
            std::span<const uint32_t> kids = tree_.children_of(tree_.processes[index]);
            // Pushed last run first, so that siblings come out in order; a folded group is a
            // marker on the stack, made a node in its turn.
            for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
                if (run->folded()) {
                    pending_groups_.push_back({index, *run, node});
                    stack.push_back({kGroupMarker + pending_groups_.size() - 1, node});
                } else if (kids[run->first] < tree_.processes.size()) {
                    stack.push_back({kids[run->first], node});
                }
            }
        }
        return json{{"parent", std::move(parent_)},
                    {"pid", std::move(pid_)},
                    {"name", std::move(name_)},
                    {"cmd", std::move(cmd_)},
                    {"how", std::move(how_)},
                    {"start", std::move(start_)},
                    {"end", std::move(end_)},
                    {"exit", std::move(exit_)},
                    {"exit_class", std::move(exit_class_)},
                    {"flags", std::move(flags_)},
                    {"copied", std::move(copied_)},
                    {"episode", std::move(episode_)},
                    {"group", std::move(group_)}};
    }

    static constexpr size_t kGroupMarker = size_t{1} << 62;

    struct PendingGroup {
        size_t parent_process;
        SiblingRun run;
        long parent_node;
    };

    std::string flags_of(const Process& p) const {
        std::string out;
        for (model::Limitation l : model::limitations_of(tree_, p)) {
            if (l == model::Limitation::kStillRunning) continue;  // the exit column says it
            out += (out.empty() ? "" : "\n") + model::limitation_words(l);
        }
        int failed = 0;
        for (const auto& e : tree_.execs_of(p)) failed += e.ok ? 0 : 1;
        if (failed)
            out += (out.empty() ? "" : "\n") + std::to_string(failed) + " failed exec" +
                   (failed > 1 ? "s" : "");
        return out;
    }

    long push_node(size_t index, long parent) {
        const Process& p = tree_.processes[index];
        parent_.push_back(parent);
        pid_.push_back(p.pid);
        name_.push_back(strings_.index(labels_.name(index)));
        cmd_.push_back(strings_.index(labels_.command_line(index)));
        how_.push_back(strings_.index(p.pid == tree_.root_pid && p.ppid == tree_.collector_pid
                                          ? ""
                                          : model::create_how_name(p.how)));
        start_.push_back(p.start_ns);
        end_.push_back(p.end_ns() ? json(*p.end_ns()) : json(nullptr));
        exit_.push_back(strings_.index(ended_text(p)));
        exit_class_.push_back(strings_.index(exit_class(p)));
        flags_.push_back(strings_.index(flags_of(p)));
        return static_cast<long>(pid_.size()) - 1;
    }

    long add_process_node(size_t index, long parent) {
        long node = push_node(index, parent);
        node_of_[index] = node;
        const ForkEpisode* e = groups_.episode_of(index);
        copied_.push_back(!e ? json(-1)
                          : e->census == ForkEpisode::Census::kShortLived
                              ? json(-2)
                              : json(e->copied_bytes_peak));
        episode_.push_back(detailed_index(index));
        group_.push_back(-1);
        return node;
    }

    void add_group_node(const PendingGroup& g) {
        std::span<const uint32_t> kids = tree_.children_of(tree_.processes[g.parent_process]);
        size_t first = kids[g.run.first];
        long node = push_node(first, g.parent_node);
        SiblingGroupFigures f = group_figures(tree_, groups_, g.parent_process, g.run);
        uint64_t last_end = 0;
        bool all_ended = true;
        for (size_t k = g.run.first; k < g.run.first + g.run.count; ++k) {
            const Process& m = tree_.processes[kids[k]];
            node_of_[kids[k]] = node;
            if (m.end_ns())
                last_end = std::max(last_end, *m.end_ns());
            else
                all_ended = false;
        }
        end_[static_cast<size_t>(node)] = all_ended ? json(last_end) : json(nullptr);
        copied_.push_back(f.copied_bytes_peak.count ? json(f.copied_bytes_peak.max)
                          : f.short_lived           ? json(-2)
                                                    : json(-1));
        episode_.push_back(-1);
        group_.push_back(groups_json_.size());
        groups_json_.push_back({{"count", g.run.count},
                                {"pids", pid_ranges(f.pids)},
                                {"life", spread_json(f.lifetime_ns)},
                                {"shared", spread_json(f.shared_bytes)},
                                {"copied", spread_json(f.copied_bytes_peak)},
                                {"short_lived", f.short_lived},
                                {"rss", spread_json(f.peak_rss_bytes)},
                                {"pss", spread_json(f.peak_pss_bytes)}});
    }

    json samples_json(const ForkEpisode& e) const {
        size_t n = tree_.samples_of(e).size();
        size_t stride =
            n > kMaxSamplesPerEpisode ? (n + kMaxSamplesPerEpisode - 1) / kMaxSamplesPerEpisode : 1;
        size_t peak = 0;
        for (size_t i = 0; i < n; ++i) {
            if (tree_.samples_of(e)[i].copied_bytes > tree_.samples_of(e)[peak].copied_bytes)
                peak = i;
        }
        json t = json::array(), shared = json::array(), copied = json::array(),
             error = json::array();
        for (size_t i = 0; i < n; ++i) {
            if (i % stride != 0 && i != peak && i + 1 != n) continue;
            const model::CowSample& s = tree_.samples_of(e)[i];
            t.push_back(s.t_ns);
            shared.push_back(s.shared_bytes);
            copied.push_back(s.copied_bytes);
            error.push_back(s.exact ? json(-1) : json(s.error_bytes));  // -1: counted exactly
        }
        return json{{"t", std::move(t)},
                    {"shared", std::move(shared)},
                    {"copied", std::move(copied)},
                    {"error", std::move(error)}};
    }

    json detailed_episodes() {
        json out = json::array();
        for (size_t r = 0; r < ranked_.size() && r < kDetailedEpisodes; ++r) {
            const ForkEpisode& e = tree_.episodes[ranked_[r]];
            const Process& child = tree_.processes[e.child_index];
            auto split = [&e](uint64_t v) { return e.split_known ? json(v) : json(nullptr); };
            json regions = json::array();
            for (const auto& g : tree_.regions_of(e)) {
                regions.push_back(
                    json::array({strings_.index(g.name.str()), g.shared_bytes_at_fork,
                                 g.copied_bytes_peak, g.copied_bytes_final,
                                 split(g.copied_by_parent_bytes), split(g.copied_by_child_bytes)}));
            }
            json frames = json::array();
            for (uint64_t ip : child.call_site) {
                for (const std::string& label : frame_labels(tree_, e.parent, ip))
                    frames.push_back(strings_.index(label));
            }
            json item{{"pid", e.child},
                      {"node", node_of_[e.child_index]},
                      {"name", strings_.index(labels_.name(e.child_index))},
                      {"cmd", strings_.index(labels_.command_line(e.child_index))},
                      {"t", e.t_ns},
                      {"end", e.end_ns() ? json(*e.end_ns()) : json(nullptr)},
                      {"end_kind", end_name(e.end)},
                      {"mode", model::census_mode_name(e.mode)},
                      {"shared", e.shared_bytes_at_fork},
                      {"peak", e.copied_bytes_peak},
                      {"final", tree_.copied_bytes_final(e)},
                      {"by_parent", split(tree_.copied_by_parent_bytes(e))},
                      {"by_child", split(tree_.copied_by_child_bytes(e))},
                      {"retained", tree_.retained_bytes_final(e)},
                      {"regions", std::move(regions)},
                      {"call_site", std::move(frames)},
                      {"approximations", e.approximations.words()},
                      {"attribution", attribution_json(e)}};
            if (r < kChartedEpisodes) item["samples"] = samples_json(e);
            out.push_back(std::move(item));
        }
        return out;
    }

    // The code that copied: the largest call paths, with how they were found (null: no word).
    json attribution_json(const ForkEpisode& e) {
        if (!tree_.attribution_of(e)) return nullptr;
        const model::CopyAttributionFigures& a = *tree_.attribution_of(e);
        json coverage = nullptr;
        if (a.unavailable.empty() && tree_.copied_bytes_final(e) > 0) {
            coverage = std::round(1000.0 * static_cast<double>(a.attributed_bytes) /
                                  static_cast<double>(tree_.copied_bytes_final(e))) /
                       1000.0;
        }
        json paths = json::array();
        uint64_t total = 0;
        for (const auto& p : e.copy_paths()) total += p.copied_bytes;
        for (size_t i = 0; i < e.copy_paths().size() && i < kCopyPathsShown; ++i) {
            const model::CopyPath& p = e.copy_paths()[i];
            json frames = json::array();
            for (const auto& f : p.frames) frames.push_back(strings_.index(f));
            paths.push_back(
                json::array({p.copied_bytes, p.side == wire::CopySide::kParent ? "parent" : "child",
                             std::move(frames)}));
        }
        return json{{"unavailable", a.unavailable.empty() ? json(nullptr) : json(a.unavailable)},
                    {"period", a.period},
                    {"coverage", coverage},
                    {"paths", std::move(paths)},
                    {"paths_total_bytes", total},
                    {"paths_more", e.copy_paths().size() > kCopyPathsShown
                                       ? e.copy_paths().size() - kCopyPathsShown
                                       : 0}};
    }

    json episodes_more() const {
        uint64_t max = 0, total = 0;
        size_t count = 0;
        for (size_t r = kDetailedEpisodes; r < ranked_.size(); ++r) {
            const ForkEpisode& e = tree_.episodes[ranked_[r]];
            max = std::max(max, e.copied_bytes_peak);
            total += e.copied_bytes_peak;
            ++count;
        }
        return json{{"count", count}, {"copied_max", max}, {"copied_total", total}};
    }

    // The episodes not charted one by one, summed: what they held together at each moment.
    json chart() const {
        StepSum copied, shared;
        size_t others = 0;
        for (size_t r = kChartedEpisodes; r < ranked_.size(); ++r) {
            const ForkEpisode& e = tree_.episodes[ranked_[r]];
            std::vector<StepPoint> c{{e.t_ns, 0}}, s{{e.t_ns, e.shared_bytes_at_fork}};
            for (const auto& smp : tree_.samples_of(e)) {
                c.push_back({smp.t_ns, smp.copied_bytes});
                s.push_back({smp.t_ns, smp.shared_bytes});
            }
            if (e.end_ns()) {
                c.push_back({std::max(*e.end_ns(), c.back().t_ns), 0});
                s.push_back({std::max(*e.end_ns(), s.back().t_ns), 0});
            }
            copied.add(c);
            shared.add(s);
            ++others;
        }
        std::vector<StepPoint> pss;
        for (const TreePssPoint& p : pss_series_) pss.push_back({p.t_ns, p.pss_bytes});
        return json{{"others", others},
                    {"others_copied", flat_points(thinned(copied.points(), kChartBuckets))},
                    {"others_shared", flat_points(thinned(shared.points(), kChartBuckets))},
                    {"tree_pss", flat_points(thinned(pss, kChartBuckets))}};
    }

    json summary() const {
        size_t short_lived = tree_.episodes.size() - ranked_.size();
        uint64_t shared_max = 0;
        for (size_t i : ranked_)
            shared_max = std::max(shared_max, tree_.episodes[i].shared_bytes_at_fork);
        CopyTotals copies = copy_totals(tree_);
        bool measured = copies.measured > 0;
        json pss_peak = nullptr;
        if (has_memory_samples(tree_)) {
            TreePssPoint peak = peak_tree_pss(pss_series_);
            pss_peak = json::array({peak.t_ns, peak.pss_bytes});
        }
        return json{{"processes", tree_.processes.size()},
                    {"roots", tree_.roots().size()},
                    {"fork_episodes", tree_.episodes.size()},
                    {"short_lived", short_lived},
                    {"shared_max", shared_max},
                    {"copied_bytes_peak_concurrent",
                     measured ? json(copies.peak_concurrent_bytes) : json(nullptr)},
                    {"copied_bytes_peak_concurrent_t_ns", measured && copies.peak_concurrent_bytes
                                                              ? json(copies.peak_concurrent_t_ns)
                                                              : json(nullptr)},
                    {"copied_bytes_total", measured ? json(copies.total_bytes) : json(nullptr)},
                    {"tree_pss_peak", pss_peak}};
    }

    json trace_info() const {
        std::vector<std::string> approximations;
        for (const auto& e : tree_.episodes) {
            for (std::string_view a : e.approximations) {
                if (std::find(approximations.begin(), approximations.end(), a) ==
                    approximations.end())
                    approximations.emplace_back(a);
            }
        }
        json notes = json::array();
        for (size_t i = 0; i < tree_.notes.size() && i < kMaxNotes; ++i) {
            const model::TraceNote& n = tree_.notes[i];
            notes.push_back(json::array({n.t_ns, n.severity, n.text}));
        }
        json info = trace_facts_json(tree_);
        info["approximations"] = approximations;
        info["notes"] = std::move(notes);
        info["notes_more"] = tree_.notes.size() > kMaxNotes ? tree_.notes.size() - kMaxNotes : 0;
        return info;
    }

    json call_sites() {
        json out = json::array();
        std::vector<ForkCallSite> sites = fork_call_sites(tree_, labels_);
        for (size_t i = 0; i < sites.size() && i < kMaxCallSites; ++i) {
            const ForkCallSite& s = sites[i];
            json frames = json::array();
            for (const auto& f : s.frames) frames.push_back(strings_.index(f));
            out.push_back({{"program", s.program},
                           {"frames", std::move(frames)},
                           {"how", s.how},
                           {"forks", s.forks},
                           {"short_lived", s.short_lived},
                           {"copied_total", s.copied_bytes_peak_total},
                           {"copied_max", s.copied_bytes_peak_max}});
        }
        return out;
    }

    const model::ProcessTree& tree_;
    ProcessLabels labels_;
    SiblingGroups groups_;
    StringTable strings_;
    std::vector<TreePssPoint> pss_series_;
    std::vector<size_t> ranked_;     // measured episodes, costliest first
    std::vector<long> detailed_of_;  // episode → index among the detailed ones, or -1
    std::vector<long> node_of_;      // process → the node that shows it (its own or its group's)
    std::vector<PendingGroup> pending_groups_;
    json groups_json_ = json::array();
    json parent_ = json::array(), pid_ = json::array(), name_ = json::array(), cmd_ = json::array(),
         how_ = json::array(), start_ = json::array(), end_ = json::array(), exit_ = json::array(),
         exit_class_ = json::array(), flags_ = json::array(), copied_ = json::array(),
         episode_ = json::array(), group_ = json::array();
};

}  // namespace

json html_page_data(const model::ProcessTree& tree) {
    return PageData(tree).build();
}

}  // namespace cowtrace::report

#include "perfetto_report.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "memory_timeline.hpp"
#include "process_labels.hpp"
#include "sibling_groups.hpp"
#include "step_series.hpp"

namespace cowtrace::report {

namespace {

using nlohmann::json;

// Perfetto draws a flow from the end of its source slice, so the arrow starts from a short
// "fork()" slice in the creator rather than from the creator's whole lifetime.
constexpr uint64_t kCallSliceNs = 1000;
// Slices shorter than this are hard to click and a zero-length one encloses no flow end.
constexpr uint64_t kMinSpanNs = 1000;

double micros(uint64_t ns) {
    return static_cast<double>(ns) / 1000.0;
}

// Where a process's events go: its own track (pid, tid = pid), or a lane of its folded group's.
struct Track {
    pid_t pid = 0;
    pid_t tid = 0;
};

// Alike siblings (sibling_groups.hpp) share one process in the viewer: a lane (thread) per
// member alive at the same time, so 10,000 `true` run one after the other are one track, not
// 10,000. The group's pid, and each lane's tid, are the pid of its first member.
struct FoldedGroup {
    std::vector<size_t> members;  // process indices
    std::vector<pid_t> lane_tids;
    std::string name;  // "10000*[true]"
};

class PerfettoWriter {
public:
    PerfettoWriter(const model::ProcessTree& tree, std::ostream& out)
        : tree_(tree), labels_(tree), groups_(tree, labels_, SiblingFolding{}), out_(out) {
        fold_siblings();
    }

    void write() {
        out_ << "{\"traceEvents\":[\n";
        for (const FoldedGroup& g : folded_) write_group_names(g);
        for (size_t i = 0; i < tree_.processes.size(); ++i) write_process(i);
        for (size_t i = 0; i < tree_.processes.size(); ++i) write_creation_flow(i);
        for (const auto& e : tree_.episodes) {
            if (group_of_[e.child_index] < 0) write_episode_counters(e);
        }
        for (size_t i = 0; i < tree_.processes.size(); ++i) {
            if (group_of_[i] < 0) write_memory_counters(tree_.processes[i]);
        }
        for (const FoldedGroup& g : folded_) write_group_counters(g);
        write_tree_pss();
        out_ << "\n],\"displayTimeUnit\":\"ms\",\"otherData\":"
             << other_data().dump(-1, ' ', false, json::error_handler_t::replace) << "}\n";
    }

private:
    void fold_siblings() {
        track_.resize(tree_.processes.size());
        group_of_.assign(tree_.processes.size(), -1);
        for (size_t i = 0; i < tree_.processes.size(); ++i)
            track_[i] = {tree_.processes[i].pid, tree_.processes[i].pid};
        for (size_t parent = 0; parent < tree_.processes.size(); ++parent) {
            std::span<const uint32_t> kids = tree_.children_of(tree_.processes[parent]);
            for (const SiblingRun& run : groups_.runs_of(parent)) {
                if (!run.folded()) continue;
                FoldedGroup g;
                g.members.assign(kids.begin() + static_cast<long>(run.first),
                                 kids.begin() + static_cast<long>(run.first + run.count));
                std::stable_sort(g.members.begin(), g.members.end(), [this](size_t a, size_t b) {
                    return tree_.processes[a].start_ns < tree_.processes[b].start_ns;
                });
                g.name = std::to_string(run.count) + "*[" + labels_.name(g.members.front()) + "]";
                // Spans on one thread must nest: a member goes on the first lane free by its start.
                std::vector<uint64_t> lane_end;
                pid_t group_pid = tree_.processes[g.members.front()].pid;
                for (size_t m : g.members) {
                    auto [start, end] = span_of(tree_.processes[m]);
                    size_t lane = 0;
                    while (lane < lane_end.size() && lane_end[lane] > start) ++lane;
                    if (lane == lane_end.size()) {
                        lane_end.push_back(0);
                        g.lane_tids.push_back(tree_.processes[m].pid);
                    }
                    lane_end[lane] = end;
                    track_[m] = {group_pid, g.lane_tids[lane]};
                    group_of_[m] = static_cast<long>(folded_.size());
                }
                folded_.push_back(std::move(g));
            }
        }
    }

    void emit(const json& event) {
        // Command lines need not be UTF-8: replace what is not rather than fail.
        out_ << (first_ ? "" : ",\n") << event.dump(-1, ' ', false, json::error_handler_t::replace);
        first_ = false;
    }

    // The process's span, clipped to the trace: [start, end or trace end], at least kMinSpanNs.
    std::pair<uint64_t, uint64_t> span_of(const model::Process& p) const {
        uint64_t end = p.end_ns() ? *p.end_ns() : std::max(tree_.end_ns, p.start_ns);
        end = std::max(end, p.start_ns + kMinSpanNs);
        return {p.start_ns, end};
    }

    void write_group_names(const FoldedGroup& g) {
        Track t = track_[g.members.front()];
        const model::Process& first = tree_.processes[g.members.front()];
        std::optional<size_t> parent = labels_.creator(g.members.front());
        std::string of = parent ? fmt_parent(*parent) : "";
        emit({{"ph", "M"},
              {"name", "process_name"},
              {"pid", t.pid},
              {"args",
               {{"name", g.name + " folded siblings" + of + ", pids " + std::to_string(first.pid) +
                             "…"}}}});
        for (size_t lane = 0; lane < g.lane_tids.size(); ++lane) {
            emit({{"ph", "M"},
                  {"name", "thread_name"},
                  {"pid", t.pid},
                  {"tid", g.lane_tids[lane]},
                  {"args",
                   {{"name", g.name + (g.lane_tids.size() > 1 ? " lane " + std::to_string(lane + 1)
                                                              : std::string())}}}});
        }
    }

    std::string fmt_parent(size_t parent) const {
        return " of " + labels_.name(parent) + " [" + std::to_string(tree_.processes[parent].pid) +
               "]";
    }

    void write_process(size_t i) {
        const model::Process& p = tree_.processes[i];
        std::string name = labels_.name(i);
        Track track = track_[i];
        if (group_of_[i] < 0) {
            emit({{"ph", "M"},
                  {"name", "process_name"},
                  {"pid", p.pid},
                  {"args", {{"name", name + " [" + std::to_string(p.pid) + "]"}}}});
            emit({{"ph", "M"},
                  {"name", "thread_name"},
                  {"pid", p.pid},
                  {"tid", p.pid},
                  {"args", {{"name", name}}}});
        }
        auto [start, end] = span_of(p);
        json args{{"pid", p.pid},
                  {"argv", labels_.command_line(i)},
                  {"exit", ended_text(p)},
                  {"how", model::create_how_name(p.how)}};
        if (p.ppid > 0) args["ppid"] = p.ppid;
        if (p.still_running || !p.end_ns()) args["alive"] = true;
        if (group_of_[i] >= 0) args["folded_in"] = folded_[static_cast<size_t>(group_of_[i])].name;
        emit({{"ph", "X"},
              {"cat", "process"},
              {"name", name},
              {"pid", track.pid},
              {"tid", track.tid},
              {"ts", micros(start)},
              {"dur", micros(end - start)},
              {"args", std::move(args)}});
        for (const auto& e : tree_.execs_of(p)) {
            if (!e.ok) continue;
            emit({{"ph", "i"},
                  {"s", "t"},
                  {"cat", "exec"},
                  {"name", "exec"},
                  {"pid", track.pid},
                  {"tid", track.tid},
                  {"ts", micros(std::clamp(e.t_ns, start, end))},
                  {"args", {{"path", e.path.str()}, {"argv", e.argv.words()}}}});
        }
    }

    // A "fork()" slice in the creator when the child appeared, and a flow from it to the child.
    void write_creation_flow(size_t i) {
        std::optional<size_t> creator = labels_.creator(i);
        if (!creator) return;
        const model::Process& child = tree_.processes[i];
        const model::Process& parent = tree_.processes[*creator];
        auto [parent_start, parent_end] = span_of(parent);
        auto [child_start, child_end] = span_of(child);
        uint64_t call_end =
            std::clamp(child_start, std::min(parent_start + kCallSliceNs, parent_end), parent_end);
        uint64_t call_start = call_end - std::min(kCallSliceNs, call_end - parent_start);
        std::string how = model::create_how_name(child.how);
        uint64_t id = ++flow_ids_;
        Track from = track_[*creator], to = track_[i];
        emit({{"ph", "X"},
              {"cat", "create"},
              {"name", how + "()"},
              {"pid", from.pid},
              {"tid", from.tid},
              {"ts", micros(call_start)},
              {"dur", micros(call_end - call_start)},
              {"args", {{"child", child.pid}}}});
        emit({{"ph", "s"},
              {"cat", "create"},
              {"name", how},
              {"id", id},
              {"pid", from.pid},
              {"tid", from.tid},
              {"ts", micros(call_start + (call_end - call_start) / 2)}});
        // "bp":"e" binds the end to the enclosing slice: the child's span, so a little inside it.
        emit(
            {{"ph", "f"},
             {"bp", "e"},
             {"cat", "create"},
             {"name", how},
             {"id", id},
             {"pid", to.pid},
             {"tid", to.tid},
             {"ts", micros(child_start + std::min<uint64_t>(500, (child_end - child_start) / 2))}});
    }

    // Perfetto makes one track per counter argument: "copy-on-write shared_bytes", "…
    // copied_bytes".
    void write_episode_counters(const model::ForkEpisode& e) {
        auto counter = [&](uint64_t t, uint64_t shared, uint64_t copied, uint64_t by_parent,
                           uint64_t by_child) {
            json args{{"shared_bytes", shared}, {"copied_bytes", copied}};
            if (e.split_known) {
                args["copied_by_parent_bytes"] = by_parent;
                args["copied_by_child_bytes"] = by_child;
            }
            emit({{"ph", "C"},
                  {"name", "copy-on-write"},
                  {"pid", e.child},
                  {"ts", micros(t)},
                  {"args", std::move(args)}});
        };
        counter(e.t_ns, e.shared_bytes_at_fork, 0, 0, 0);
        for (const auto& s : tree_.samples_of(e)) {
            counter(s.t_ns, s.shared_bytes, s.copied_bytes, s.copied_by_parent_bytes,
                    s.copied_by_child_bytes);
        }
        // Once the child is gone nothing is shared or copied any more.
        if (e.end_ns()) counter(*e.end_ns(), 0, 0, 0, 0);
    }

    void write_memory_counters(const model::Process& p) {
        for (const auto& m : tree_.memory_of(p)) {
            emit({{"ph", "C"},
                  {"name", "memory"},
                  {"pid", p.pid},
                  {"ts", micros(m.t_ns)},
                  {"args", {{"rss_bytes", m.rss_bytes}, {"pss_bytes", m.pss_bytes}}}});
        }
        if (!tree_.memory_of(p).empty() && p.end_ns() &&
            *p.end_ns() >= tree_.memory_of(p).back().t_ns && !p.still_running) {
            emit({{"ph", "C"},
                  {"name", "memory"},
                  {"pid", p.pid},
                  {"ts", micros(*p.end_ns())},
                  {"args", {{"rss_bytes", 0}, {"pss_bytes", 0}}}});
        }
    }

    // A group's counters are its members' summed: what the group held at each moment.
    void write_group_counters(const FoldedGroup& g) {
        StepSum shared, copied, rss, pss;
        for (size_t m : g.members) {
            const model::Process& p = tree_.processes[m];
            if (const model::ForkEpisode* e = groups_.episode_of(m)) {
                std::vector<StepPoint> s{{e->t_ns, e->shared_bytes_at_fork}}, c{{e->t_ns, 0}};
                for (const auto& smp : tree_.samples_of(*e)) {
                    s.push_back({smp.t_ns, smp.shared_bytes});
                    c.push_back({smp.t_ns, smp.copied_bytes});
                }
                if (e->end_ns()) {
                    s.push_back({std::max(*e->end_ns(), s.back().t_ns), 0});
                    c.push_back({std::max(*e->end_ns(), c.back().t_ns), 0});
                }
                shared.add(s);
                copied.add(c);
            }
            if (tree_.memory_of(p).empty()) continue;
            std::vector<StepPoint> r, q;
            for (const auto& smp : tree_.memory_of(p)) {
                r.push_back({smp.t_ns, smp.rss_bytes});
                q.push_back({smp.t_ns, smp.pss_bytes});
            }
            if (p.end_ns() && *p.end_ns() >= tree_.memory_of(p).back().t_ns && !p.still_running) {
                r.push_back({*p.end_ns(), 0});
                q.push_back({*p.end_ns(), 0});
            }
            rss.add(r);
            pss.add(q);
        }
        pid_t pid = track_[g.members.front()].pid;
        auto counter = [&](const char* name, const char* arg, const StepSum& sum) {
            for (const StepPoint& point : sum.points()) {
                emit({{"ph", "C"},
                      {"name", name},
                      {"pid", pid},
                      {"ts", micros(point.t_ns)},
                      {"args", {{arg, point.value}}}});
            }
        };
        counter("copy-on-write", "shared_bytes", shared);
        counter("copy-on-write", "copied_bytes", copied);
        counter("memory", "rss_bytes", rss);
        counter("memory", "pss_bytes", pss);
    }

    // The whole tree's PSS on the collector's own process, which no traced process shares.
    void write_tree_pss() {
        std::vector<TreePssPoint> series = tree_pss_series(tree_);
        if (series.empty() || tree_.collector_pid <= 0) return;
        emit({{"ph", "M"},
              {"name", "process_name"},
              {"pid", tree_.collector_pid},
              {"args",
               {{"name",
                 "whole tree (cowtrace collector " + std::to_string(tree_.collector_pid) + ")"}}}});
        for (const auto& point : series) {
            emit({{"ph", "C"},
                  {"name", "tree"},
                  {"pid", tree_.collector_pid},
                  {"ts", micros(point.t_ns)},
                  {"args", {{"pss_bytes", point.pss_bytes}}}});
        }
    }

    json other_data() const {
        std::string command;
        for (const auto& a : tree_.command) command += (command.empty() ? "" : " ") + a;
        return {{"producer", "cowtrace"},
                {"command", command},
                {"host", tree_.host},
                {"kernel_release", tree_.kernel_release},
                {"census_mode", model::census_mode_name(tree_.census_mode)},
                {"wall_start_ns", tree_.wall_t0_ns}};
    }

    const model::ProcessTree& tree_;
    ProcessLabels labels_;
    SiblingGroups groups_;
    std::ostream& out_;
    std::vector<Track> track_;    // per process
    std::vector<long> group_of_;  // per process: its index in folded_, or -1
    std::vector<FoldedGroup> folded_;
    bool first_ = true;
    uint64_t flow_ids_ = 0;
};

}  // namespace

void write_perfetto(const model::ProcessTree& tree, std::ostream& out) {
    PerfettoWriter(tree, out).write();
}

}  // namespace cowtrace::report

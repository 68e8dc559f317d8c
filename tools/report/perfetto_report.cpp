#include "perfetto_report.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "memory_timeline.hpp"
#include "process_labels.hpp"

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

class PerfettoWriter {
public:
    PerfettoWriter(const model::ProcessTree& tree, std::ostream& out)
        : tree_(tree), labels_(tree), out_(out) {}

    void write() {
        out_ << "{\"traceEvents\":[\n";
        for (size_t i = 0; i < tree_.processes.size(); ++i) write_process(i);
        for (size_t i = 0; i < tree_.processes.size(); ++i) write_creation_flow(i);
        for (const auto& e : tree_.episodes) write_episode_counters(e);
        for (const auto& p : tree_.processes) write_memory_counters(p);
        write_tree_pss();
        out_ << "\n],\"displayTimeUnit\":\"ms\",\"otherData\":"
             << other_data().dump(-1, ' ', false, json::error_handler_t::replace) << "}\n";
    }

private:
    void emit(const json& event) {
        // Command lines need not be UTF-8: replace what is not rather than fail.
        out_ << (first_ ? "" : ",\n") << event.dump(-1, ' ', false, json::error_handler_t::replace);
        first_ = false;
    }

    // The process's span, clipped to the trace: [start, end or trace end], at least kMinSpanNs.
    std::pair<uint64_t, uint64_t> span_of(const model::Process& p) const {
        uint64_t end = p.end_ns ? *p.end_ns : std::max(tree_.end_ns, p.start_ns);
        end = std::max(end, p.start_ns + kMinSpanNs);
        return {p.start_ns, end};
    }

    void write_process(size_t i) {
        const model::Process& p = tree_.processes[i];
        std::string name = labels_.name(i);
        emit({{"ph", "M"},
              {"name", "process_name"},
              {"pid", p.pid},
              {"args", {{"name", name + " [" + std::to_string(p.pid) + "]"}}}});
        emit({{"ph", "M"},
              {"name", "thread_name"},
              {"pid", p.pid},
              {"tid", p.pid},
              {"args", {{"name", name}}}});
        auto [start, end] = span_of(p);
        json args{{"pid", p.pid},
                  {"argv", labels_.command_line(i)},
                  {"exit", ended_text(p)},
                  {"how", model::create_how_name(p.how)}};
        if (p.ppid > 0) args["ppid"] = p.ppid;
        if (p.still_running || !p.end_ns) args["alive"] = true;
        emit({{"ph", "X"},
              {"cat", "process"},
              {"name", name},
              {"pid", p.pid},
              {"tid", p.pid},
              {"ts", micros(start)},
              {"dur", micros(end - start)},
              {"args", std::move(args)}});
        for (const auto& e : p.execs) {
            if (!e.ok) continue;
            emit({{"ph", "i"},
                  {"s", "t"},
                  {"cat", "exec"},
                  {"name", "exec"},
                  {"pid", p.pid},
                  {"tid", p.pid},
                  {"ts", micros(std::clamp(e.t_ns, start, end))},
                  {"args", {{"path", e.path}, {"argv", e.argv}}}});
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
        emit({{"ph", "X"},
              {"cat", "create"},
              {"name", how + "()"},
              {"pid", parent.pid},
              {"tid", parent.pid},
              {"ts", micros(call_start)},
              {"dur", micros(call_end - call_start)},
              {"args", {{"child", child.pid}}}});
        emit({{"ph", "s"},
              {"cat", "create"},
              {"name", how},
              {"id", id},
              {"pid", parent.pid},
              {"tid", parent.pid},
              {"ts", micros(call_start + (call_end - call_start) / 2)}});
        // "bp":"e" binds the end to the enclosing slice: the child's span, so a little inside it.
        emit(
            {{"ph", "f"},
             {"bp", "e"},
             {"cat", "create"},
             {"name", how},
             {"id", id},
             {"pid", child.pid},
             {"tid", child.pid},
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
        for (const auto& s : e.samples) {
            counter(s.t_ns, s.shared_bytes, s.copied_bytes, s.copied_by_parent_bytes,
                    s.copied_by_child_bytes);
        }
        // Once the child is gone nothing is shared or copied any more.
        if (e.end_ns) counter(*e.end_ns, 0, 0, 0, 0);
    }

    void write_memory_counters(const model::Process& p) {
        for (const auto& m : p.memory) {
            emit({{"ph", "C"},
                  {"name", "memory"},
                  {"pid", p.pid},
                  {"ts", micros(m.t_ns)},
                  {"args", {{"rss_bytes", m.rss_bytes}, {"pss_bytes", m.pss_bytes}}}});
        }
        if (!p.memory.empty() && p.end_ns && *p.end_ns >= p.memory.back().t_ns &&
            !p.still_running) {
            emit({{"ph", "C"},
                  {"name", "memory"},
                  {"pid", p.pid},
                  {"ts", micros(*p.end_ns)},
                  {"args", {{"rss_bytes", 0}, {"pss_bytes", 0}}}});
        }
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
    std::ostream& out_;
    bool first_ = true;
    uint64_t flow_ids_ = 0;
};

}  // namespace

void write_perfetto(const model::ProcessTree& tree, std::ostream& out) {
    PerfettoWriter(tree, out).write();
}

}  // namespace cowtrace::report

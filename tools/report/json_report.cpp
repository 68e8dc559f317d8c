#include "json_report.hpp"

#include <cmath>
#include <cstring>

#include "copy_totals.hpp"
#include "json_stream.hpp"
#include "process_labels.hpp"
#include "trace_facts.hpp"

namespace cowtrace::report {

namespace {

using nlohmann::json;

json exit_json(const model::ExitStatus& e) {
    switch (e.kind) {
        case model::ExitStatus::Kind::kCode:
            return json{{"code", e.code}, {"source", model::exit_source_name(e.source)}};
        case model::ExitStatus::Kind::kSignal:
            return json{{"signal", e.signal},
                        {"core_dumped", e.core},
                        {"source", model::exit_source_name(e.source)}};
        case model::ExitStatus::Kind::kUnknown:
            break;
    }
    return nullptr;
}

json limits_json(const model::ProcessTree& tree, const model::Process& p) {
    json flags = json::array();
    for (model::Limitation l : model::limitations_of(tree, p))
        flags.push_back(model::limitation_id(l));
    return flags;
}

// Return addresses innermost first; "symbol" only where the collector resolved one,
// "inlined_into" only where that symbol's code was inlined (the functions around it, innermost
// first).
json call_site_json(const model::ProcessTree& tree, pid_t creator, const model::CallSite& ips) {
    json out = json::array();
    for (uint64_t ip : ips) {
        char hex[32];
        snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(ip));
        json frame{{"ip", hex}};
        auto sym = tree.symbols.find({creator, ip});
        if (sym != tree.symbols.end()) frame["symbol"] = sym->second;
        auto inlined = tree.symbols_inlined_into.find({creator, ip});
        if (inlined != tree.symbols_inlined_into.end()) frame["inlined_into"] = inlined->second;
        out.push_back(std::move(frame));
    }
    return out;
}

const char* end_name(model::ForkEpisode::End e) {
    switch (e) {
        case model::ForkEpisode::End::kExit:
            return "exit";
        case model::ForkEpisode::End::kExec:
            return "exec";
        case model::ForkEpisode::End::kRunning:
            break;
    }
    return "running";
}

// How the episode's copies were attributed to code: null when the trace has no word of it
// (attribution off, or an older collector).
json attribution_summary_json(const model::ProcessTree& tree, const model::ForkEpisode& e) {
    if (!tree.attribution_of(e)) return nullptr;
    const model::CopyAttributionFigures& a = *tree.attribution_of(e);
    // The share of the measured copies the call paths account for (sampling estimates them:
    // it may pass 1 a little).
    json coverage = nullptr;
    if (a.unavailable.empty() && tree.copied_bytes_final(e) > 0) {
        coverage = std::round(1000.0 * static_cast<double>(a.attributed_bytes) /
                              static_cast<double>(tree.copied_bytes_final(e))) /
                   1000.0;
    }
    return json{{"unavailable", a.unavailable.empty() ? json(nullptr) : json(a.unavailable)},
                {"period", a.period},
                {"samples", a.samples},
                {"copy_samples", a.copy_samples},
                {"new_page_samples", a.new_page_samples},
                {"repeat_samples", a.repeat_samples},
                {"lost_samples", a.lost_samples},
                {"attributed_bytes", a.attributed_bytes},
                {"coverage", coverage}};
}

json episode_json(const model::ProcessTree& tree, const model::ForkEpisode& e) {
    json samples = json::array();
    for (const auto& s : tree.samples_of(e)) {
        json x{{"t_ns", s.t_ns},
               {"shared_bytes", s.shared_bytes},
               {"copied_bytes", s.copied_bytes},
               {"retained_bytes", s.retained_bytes},
               {"child_new_bytes", s.child_new_bytes},
               {"exact", s.exact},
               {"error_bytes", s.error_bytes}};
        if (e.split_known) {
            x["copied_by_parent_bytes"] = s.copied_by_parent_bytes;
            x["copied_by_child_bytes"] = s.copied_by_child_bytes;
        }
        samples.push_back(std::move(x));
    }
    json regions = json::array();
    for (const auto& r : tree.regions_of(e)) {
        json x{{"name", r.name.str()},
               {"shared_bytes_at_fork", r.shared_bytes_at_fork},
               {"copied_bytes_final", r.copied_bytes_final},
               {"copied_bytes_peak", r.copied_bytes_peak}};
        if (e.split_known) {
            x["copied_by_parent_bytes"] = r.copied_by_parent_bytes;
            x["copied_by_child_bytes"] = r.copied_by_child_bytes;
        }
        regions.push_back(std::move(x));
    }
    json attribution = json::array();
    for (const auto& p : e.copy_paths()) {
        attribution.push_back(json{{"stack", p.frames},
                                   {"side", p.side == wire::CopySide::kParent ? "parent" : "child"},
                                   {"copied_bytes", p.copied_bytes},
                                   {"samples", p.samples}});
    }
    const model::Process& child = tree.processes[e.child_index];
    // A short-lived episode was not measured: its figures are unknown, not zero.
    bool measured = e.census == model::ForkEpisode::Census::kMeasured;
    auto figure = [measured](uint64_t v) { return measured ? json(v) : json(nullptr); };
    auto split = [&](uint64_t v) { return measured && e.split_known ? json(v) : json(nullptr); };
    return json{
        {"parent", e.parent},
        {"child", e.child},
        {"child_index", e.child_index},
        {"t_ns", e.t_ns},
        {"end_ns", e.end_ns() ? json(*e.end_ns()) : json(nullptr)},
        {"end", end_name(e.end)},
        {"census", measured ? "measured" : "short-lived"},
        {"mode", model::census_mode_name(e.mode)},
        {"shared_bytes_at_fork",
         measured || e.shared_bytes_at_fork ? json(e.shared_bytes_at_fork) : json(nullptr)},
        {"copied_bytes_peak", figure(e.copied_bytes_peak)},
        {"copied_bytes_final", figure(tree.copied_bytes_final(e))},
        {"copied_by_parent_bytes", split(tree.copied_by_parent_bytes(e))},
        {"copied_by_child_bytes", split(tree.copied_by_child_bytes(e))},
        {"retained_bytes_final", figure(tree.retained_bytes_final(e))},
        {"child_new_bytes_final", figure(tree.child_new_bytes_final(e))},
        {"final_from_last_sample", e.final_from_last_sample},
        {"parent_ended_first", e.parent_ended_first_ns().has_value()},
        {"under_way_at_attach", e.under_way_at_attach},
        {"baseline_delay_ns", e.baseline_delay_ns() ? json(*e.baseline_delay_ns()) : json(nullptr)},
        {"child_minor_faults",
         tree.child_minor_faults(e) ? json(*tree.child_minor_faults(e)) : json(nullptr)},
        {"zero_page_bytes_at_fork", e.zero_page_bytes_at_fork()},
        {"thp_bytes_at_fork", e.thp_bytes_at_fork()},
        {"ksm_bytes_at_fork", e.ksm_bytes_at_fork()},
        {"approximations", e.approximations.words()},
        {"census_cost_ns", e.census_cost_ns},
        {"call_site", call_site_json(tree, e.parent, child.call_site)},
        {"samples", std::move(samples)},
        {"regions", std::move(regions)},
        {"attribution", std::move(attribution)},
        {"attribution_summary", attribution_summary_json(tree, e)}};
}

json memory_json(const model::ProcessTree& tree, const model::Process& p) {
    json out = json::array();
    for (const auto& m : tree.memory_of(p)) {
        out.push_back(json{{"t_ns", m.t_ns},
                           {"rss_bytes", m.rss_bytes},
                           {"pss_bytes", m.pss_bytes},
                           {"private_dirty_bytes", m.private_dirty_bytes},
                           {"shared_dirty_bytes", m.shared_dirty_bytes},
                           {"anonymous_bytes", m.anonymous_bytes},
                           {"swap_bytes", m.swap_bytes}});
    }
    return out;
}

}  // namespace

json to_json(const model::ProcessTree& tree) {
    ProcessLabels labels(tree);
    json processes = json::array();
    for (size_t i = 0; i < tree.processes.size(); ++i) {
        const model::Process& p = tree.processes[i];
        std::span<const uint32_t> children = tree.children_of(p);
        json execs = json::array();
        for (const auto& e : tree.execs_of(p)) {
            json x{
                {"t_ns", e.t_ns}, {"path", e.path.str()}, {"argv", e.argv.words()}, {"ok", e.ok}};
            if (e.requested_path != e.path) x["requested_path"] = e.requested_path.str();
            if (!e.ok && e.error) x["error"] = strerror(e.error);
            if (e.argv_truncated) x["argv_truncated"] = true;
            if (e.image.any()) x["image"] = model::image_text(e.image);
            if (e.env_reinjected) x["env_reinjected"] = true;
            execs.push_back(std::move(x));
        }
        json proc{{"pid", p.pid},
                  {"ppid", p.ppid > 0 ? json(p.ppid) : json(nullptr)},
                  {"start_ns", p.start_ns},
                  {"end_ns", p.end_ns() ? json(*p.end_ns()) : json(nullptr)},
                  {"execs", std::move(execs)},
                  {"exit", exit_json(p.exit)},
                  {"how", model::create_how_name(p.how)},
                  {"argv", p.argv.words()},
                  {"call_site", call_site_json(tree, p.ppid, p.call_site)},
                  {"flags", limits_json(tree, p)},
                  {"name", labels.name(i)},
                  {"command_line", labels.command_line(i)},
                  {"children", std::vector<size_t>(children.begin(), children.end())}};
        if (!tree.memory_of(p).empty()) proc["memory"] = memory_json(tree, p);
        if (p.dropped_records() || p.seq_gaps()) {
            proc["records_missing"] = p.records_lost();
        }
        processes.push_back(std::move(proc));
    }
    json notes = json::array();
    for (const auto& n : tree.notes) {
        notes.push_back(json{{"t_ns", n.t_ns}, {"severity", n.severity}, {"text", n.text}});
    }
    json root_exit = nullptr;
    if (tree.root_status) {
        int s = *tree.root_status;
        if ((s & 0x7f) == 0)
            root_exit = json{{"code", (s >> 8) & 0xff}};
        else
            root_exit = json{{"signal", s & 0x7f}};
    }
    json forks = json::array();
    for (const auto& e : tree.episodes) forks.push_back(episode_json(tree, e));
    CopyTotals copies = copy_totals(tree);
    bool measured = copies.measured > 0;
    auto known = [measured](uint64_t v) { return measured ? json(v) : json(nullptr); };
    json summary{// The most the copies of the episodes alive at one moment took together, and when;
                 // every measured episode's peak summed (how much copying happened, not at once).
                 {"copied_bytes_peak_concurrent", known(copies.peak_concurrent_bytes)},
                 {"copied_bytes_peak_concurrent_t_ns", measured && copies.peak_concurrent_bytes
                                                           ? json(copies.peak_concurrent_t_ns)
                                                           : json(nullptr)},
                 {"copied_bytes_total", known(copies.total_bytes)},
                 {"fork_episodes", tree.episodes.size()},
                 {"fork_episodes_measured", copies.measured}};
    json trace = trace_facts_json(tree);
    trace["format"] = "cowtrace";
    trace["command"] = tree.command;
    trace["attached"] = tree.attached;
    trace["requested_interval_ns"] = tree.interval_ns;
    trace["root_exit"] = root_exit;
    trace["notes"] = std::move(notes);
    return json{{"root_pid", tree.root_pid},
                {"summary", std::move(summary)},
                {"processes", std::move(processes)},
                {"forks", std::move(forks)},
                {"trace", std::move(trace)}};
}

namespace {

// write_json's walk. Each object's keys are written in the order nlohmann::json sorts them
// (byte order), so the text is to_json's dump.
class JsonReportWriter {
public:
    JsonReportWriter(const model::ProcessTree& tree, std::ostream& out)
        : tree_(tree), labels_(tree), json_(out) {}

    void write() {
        json_.begin_object();
        json_.key("forks").begin_array();
        for (const auto& e : tree_.episodes) episode(e);
        json_.end_array();
        json_.key("processes").begin_array();
        for (size_t i = 0; i < tree_.processes.size(); ++i) process(i);
        json_.end_array();
        json_.key("root_pid").number(tree_.root_pid);
        summary();
        trace();
        json_.end_object();
        json_.flush();
    }

private:
    template <class Words>  // std::vector<std::string>, model::CommandLine
    void strings(const Words& list) {
        json_.begin_array();
        for (std::string_view s : list) json_.string(s);
        json_.end_array();
    }

    template <class T>
    void number_or_null(const std::optional<T>& v) {
        if (v)
            json_.number(*v);
        else
            json_.null();
    }

    void exit_status(const model::ExitStatus& e) {
        switch (e.kind) {
            case model::ExitStatus::Kind::kCode:
                json_.begin_object();
                json_.key("code").number(e.code);
                json_.key("source").string(model::exit_source_name(e.source));
                json_.end_object();
                return;
            case model::ExitStatus::Kind::kSignal:
                json_.begin_object();
                json_.key("core_dumped").boolean(e.core);
                json_.key("signal").number(e.signal);
                json_.key("source").string(model::exit_source_name(e.source));
                json_.end_object();
                return;
            case model::ExitStatus::Kind::kUnknown:
                break;
        }
        json_.null();
    }

    void call_site(pid_t creator, const model::CallSite& ips) {
        json_.begin_array();
        for (uint64_t ip : ips) {
            json_.begin_object();
            auto inlined = tree_.symbols_inlined_into.find({creator, ip});
            if (inlined != tree_.symbols_inlined_into.end()) {
                json_.key("inlined_into");
                strings(inlined->second);
            }
            char hex[32];
            snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(ip));
            json_.key("ip").string(hex);
            auto sym = tree_.symbols.find({creator, ip});
            if (sym != tree_.symbols.end()) json_.key("symbol").string(sym->second);
            json_.end_object();
        }
        json_.end_array();
    }

    void attribution_summary(const model::ForkEpisode& e) {
        if (!tree_.attribution_of(e)) {
            json_.null();
            return;
        }
        const model::CopyAttributionFigures& a = *tree_.attribution_of(e);
        json_.begin_object();
        json_.key("attributed_bytes").number(a.attributed_bytes);
        json_.key("copy_samples").number(a.copy_samples);
        json_.key("coverage");
        if (a.unavailable.empty() && tree_.copied_bytes_final(e) > 0) {
            json_.number(std::round(1000.0 * static_cast<double>(a.attributed_bytes) /
                                    static_cast<double>(tree_.copied_bytes_final(e))) /
                         1000.0);
        } else {
            json_.null();
        }
        json_.key("lost_samples").number(a.lost_samples);
        json_.key("new_page_samples").number(a.new_page_samples);
        json_.key("period").number(a.period);
        json_.key("repeat_samples").number(a.repeat_samples);
        json_.key("samples").number(a.samples);
        json_.key("unavailable");
        if (a.unavailable.empty())
            json_.null();
        else
            json_.string(a.unavailable);
        json_.end_object();
    }

    void episode(const model::ForkEpisode& e) {
        const model::Process& child = tree_.processes[e.child_index];
        bool measured = e.census == model::ForkEpisode::Census::kMeasured;
        auto figure = [&](uint64_t v) {
            if (measured)
                json_.number(v);
            else
                json_.null();
        };
        auto split = [&](uint64_t v) {
            if (measured && e.split_known)
                json_.number(v);
            else
                json_.null();
        };
        json_.begin_object();
        json_.key("approximations");
        strings(e.approximations);
        json_.key("attribution").begin_array();
        for (const auto& p : e.copy_paths()) {
            json_.begin_object();
            json_.key("copied_bytes").number(p.copied_bytes);
            json_.key("samples").number(p.samples);
            json_.key("side").string(p.side == wire::CopySide::kParent ? "parent" : "child");
            json_.key("stack");
            strings(p.frames);
            json_.end_object();
        }
        json_.end_array();
        json_.key("attribution_summary");
        attribution_summary(e);
        json_.key("baseline_delay_ns");
        number_or_null(e.baseline_delay_ns());
        json_.key("call_site");
        call_site(e.parent, child.call_site);
        json_.key("census").string(measured ? "measured" : "short-lived");
        json_.key("census_cost_ns").number(e.census_cost_ns);
        json_.key("child").number(e.child);
        json_.key("child_index").number(e.child_index);
        json_.key("child_minor_faults");
        number_or_null(tree_.child_minor_faults(e));
        json_.key("child_new_bytes_final");
        figure(tree_.child_new_bytes_final(e));
        json_.key("copied_by_child_bytes");
        split(tree_.copied_by_child_bytes(e));
        json_.key("copied_by_parent_bytes");
        split(tree_.copied_by_parent_bytes(e));
        json_.key("copied_bytes_final");
        figure(tree_.copied_bytes_final(e));
        json_.key("copied_bytes_peak");
        figure(e.copied_bytes_peak);
        json_.key("end").string(end_name(e.end));
        json_.key("end_ns");
        number_or_null(e.end_ns());
        json_.key("final_from_last_sample").boolean(e.final_from_last_sample);
        json_.key("ksm_bytes_at_fork").number(e.ksm_bytes_at_fork());
        json_.key("mode").string(model::census_mode_name(e.mode));
        json_.key("parent").number(e.parent);
        json_.key("parent_ended_first").boolean(e.parent_ended_first_ns().has_value());
        json_.key("regions").begin_array();
        for (const auto& r : tree_.regions_of(e)) {
            json_.begin_object();
            if (e.split_known) {
                json_.key("copied_by_child_bytes").number(r.copied_by_child_bytes);
                json_.key("copied_by_parent_bytes").number(r.copied_by_parent_bytes);
            }
            json_.key("copied_bytes_final").number(r.copied_bytes_final);
            json_.key("copied_bytes_peak").number(r.copied_bytes_peak);
            json_.key("name").string(r.name.view());
            json_.key("shared_bytes_at_fork").number(r.shared_bytes_at_fork);
            json_.end_object();
        }
        json_.end_array();
        json_.key("retained_bytes_final");
        figure(tree_.retained_bytes_final(e));
        json_.key("samples").begin_array();
        for (const auto& s : tree_.samples_of(e)) {
            json_.begin_object();
            json_.key("child_new_bytes").number(s.child_new_bytes);
            if (e.split_known) {
                json_.key("copied_by_child_bytes").number(s.copied_by_child_bytes);
                json_.key("copied_by_parent_bytes").number(s.copied_by_parent_bytes);
            }
            json_.key("copied_bytes").number(s.copied_bytes);
            json_.key("error_bytes").number(s.error_bytes);
            json_.key("exact").boolean(s.exact);
            json_.key("retained_bytes").number(s.retained_bytes);
            json_.key("shared_bytes").number(s.shared_bytes);
            json_.key("t_ns").number(s.t_ns);
            json_.end_object();
        }
        json_.end_array();
        json_.key("shared_bytes_at_fork");
        if (measured || e.shared_bytes_at_fork)
            json_.number(e.shared_bytes_at_fork);
        else
            json_.null();
        json_.key("t_ns").number(e.t_ns);
        json_.key("thp_bytes_at_fork").number(e.thp_bytes_at_fork());
        json_.key("under_way_at_attach").boolean(e.under_way_at_attach);
        json_.key("zero_page_bytes_at_fork").number(e.zero_page_bytes_at_fork());
        json_.end_object();
    }

    void exec(const model::ExecEvent& e) {
        json_.begin_object();
        json_.key("argv");
        strings(e.argv);
        if (e.argv_truncated) json_.key("argv_truncated").boolean(true);
        if (e.env_reinjected) json_.key("env_reinjected").boolean(true);
        if (!e.ok && e.error) json_.key("error").string(strerror(e.error));
        if (e.image.any()) json_.key("image").string(model::image_text(e.image));
        json_.key("ok").boolean(e.ok);
        json_.key("path").string(e.path.view());
        if (e.requested_path != e.path) json_.key("requested_path").string(e.requested_path.view());
        json_.key("t_ns").number(e.t_ns);
        json_.end_object();
    }

    void memory(const model::Process& p) {
        json_.begin_array();
        for (const auto& m : tree_.memory_of(p)) {
            json_.begin_object();
            json_.key("anonymous_bytes").number(m.anonymous_bytes);
            json_.key("private_dirty_bytes").number(m.private_dirty_bytes);
            json_.key("pss_bytes").number(m.pss_bytes);
            json_.key("rss_bytes").number(m.rss_bytes);
            json_.key("shared_dirty_bytes").number(m.shared_dirty_bytes);
            json_.key("swap_bytes").number(m.swap_bytes);
            json_.key("t_ns").number(m.t_ns);
            json_.end_object();
        }
        json_.end_array();
    }

    void process(size_t i) {
        const model::Process& p = tree_.processes[i];
        json_.begin_object();
        json_.key("argv");
        strings(p.argv);
        json_.key("call_site");
        call_site(p.ppid, p.call_site);
        json_.key("children").begin_array();
        for (size_t c : tree_.children_of(p)) json_.number(c);
        json_.end_array();
        json_.key("command_line").string(labels_.command_line(i));
        json_.key("end_ns");
        number_or_null(p.end_ns());
        json_.key("execs").begin_array();
        for (const auto& e : tree_.execs_of(p)) exec(e);
        json_.end_array();
        json_.key("exit");
        exit_status(p.exit);
        json_.key("flags").begin_array();
        for (model::Limitation l : model::limitations_of(tree_, p))
            json_.string(model::limitation_id(l));
        json_.end_array();
        json_.key("how").string(model::create_how_name(p.how));
        if (!tree_.memory_of(p).empty()) {
            json_.key("memory");
            memory(p);
        }
        json_.key("name").string(labels_.name(i));
        json_.key("pid").number(p.pid);
        json_.key("ppid");
        if (p.ppid > 0)
            json_.number(p.ppid);
        else
            json_.null();
        if (p.dropped_records() || p.seq_gaps())
            json_.key("records_missing").number(p.records_lost());
        json_.key("start_ns").number(p.start_ns);
        json_.end_object();
    }

    void summary() {
        CopyTotals copies = copy_totals(tree_);
        bool measured = copies.measured > 0;
        auto known = [&](uint64_t v) {
            if (measured)
                json_.number(v);
            else
                json_.null();
        };
        json_.key("summary").begin_object();
        json_.key("copied_bytes_peak_concurrent");
        known(copies.peak_concurrent_bytes);
        json_.key("copied_bytes_peak_concurrent_t_ns");
        if (measured && copies.peak_concurrent_bytes)
            json_.number(copies.peak_concurrent_t_ns);
        else
            json_.null();
        json_.key("copied_bytes_total");
        known(copies.total_bytes);
        json_.key("fork_episodes").number(tree_.episodes.size());
        json_.key("fork_episodes_measured").number(copies.measured);
        json_.end_object();
    }

    void trace() {
        json_.key("trace").begin_object();
        json_.key("attached").boolean(tree_.attached);
        json_.key("census_mode").string(model::census_mode_name(tree_.census_mode));
        json_.key("command");
        strings(tree_.command);
        json_.key("command_line").string(command_text(tree_.command));
        json_.key("complete").boolean(tree_.complete);
        json_.key("dropped_records").number(tree_.dropped_records);
        json_.key("duration_ns").number(tree_.end_ns);
        json_.key("format").string("cowtrace");
        json_.key("host").string(tree_.host);
        json_.key("kernel_events").boolean(tree_.kernel_events);
        json_.key("kernel_events_lost").number(tree_.kernel_events_lost);
        json_.key("kernel_events_note").string(tree_.kernel_events_note);
        json_.key("kernel_release").string(tree_.kernel_release);
        json_.key("notes").begin_array();
        for (const auto& n : tree_.notes) {
            json_.begin_object();
            json_.key("severity").number(n.severity);
            json_.key("t_ns").number(n.t_ns);
            json_.key("text").string(n.text);
            json_.end_object();
        }
        json_.end_array();
        json_.key("reader_error");
        if (tree_.reader_error.empty())
            json_.null();
        else
            json_.string(tree_.reader_error);
        json_.key("rejected_records").number(tree_.rejected_records);
        json_.key("requested_interval_ns").number(tree_.interval_ns);
        json_.key("root_exit");
        if (tree_.root_status) {
            int s = *tree_.root_status;
            json_.begin_object();
            if ((s & 0x7f) == 0)
                json_.key("code").number((s >> 8) & 0xff);
            else
                json_.key("signal").number(s & 0x7f);
            json_.end_object();
        } else {
            json_.null();
        }
        json_.key("sampling_interval_ns").number(tree_.sampling_interval_ns);
        json_.key("shim_records").number(tree_.shim_records);
        json_.key("wall_start_ns").number(tree_.wall_t0_ns);
        json_.end_object();
    }

    const model::ProcessTree& tree_;
    ProcessLabels labels_;
    JsonStream json_;
};

}  // namespace

void write_json(const model::ProcessTree& tree, std::ostream& out) {
    JsonReportWriter(tree, out).write();
}

}  // namespace cowtrace::report

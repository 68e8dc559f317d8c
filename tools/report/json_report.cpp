#include "json_report.hpp"

#include <cmath>
#include <cstring>

#include "copy_totals.hpp"
#include "process_labels.hpp"

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
json call_site_json(const model::ProcessTree& tree, pid_t creator,
                    const std::vector<uint64_t>& ips) {
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
json attribution_summary_json(const model::ForkEpisode& e) {
    if (!e.attribution) return nullptr;
    const model::CopyAttributionFigures& a = *e.attribution;
    // The share of the measured copies the call paths account for (sampling estimates them:
    // it may pass 1 a little).
    json coverage = nullptr;
    if (a.unavailable.empty() && e.copied_bytes_final > 0) {
        coverage = std::round(1000.0 * static_cast<double>(a.attributed_bytes) /
                              static_cast<double>(e.copied_bytes_final)) /
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
    for (const auto& s : e.samples) {
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
    for (const auto& r : e.regions) {
        json x{{"name", r.name},
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
    for (const auto& p : e.copy_paths) {
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
        {"end_ns", e.end_ns ? json(*e.end_ns) : json(nullptr)},
        {"end", end_name(e.end)},
        {"census", measured ? "measured" : "short-lived"},
        {"mode", model::census_mode_name(e.mode)},
        {"shared_bytes_at_fork",
         measured || e.shared_bytes_at_fork ? json(e.shared_bytes_at_fork) : json(nullptr)},
        {"copied_bytes_peak", figure(e.copied_bytes_peak)},
        {"copied_bytes_final", figure(e.copied_bytes_final)},
        {"copied_by_parent_bytes", split(e.copied_by_parent_bytes)},
        {"copied_by_child_bytes", split(e.copied_by_child_bytes)},
        {"retained_bytes_final", figure(e.retained_bytes_final)},
        {"child_new_bytes_final", figure(e.child_new_bytes_final)},
        {"final_from_last_sample", e.final_from_last_sample},
        {"under_way_at_attach", e.under_way_at_attach},
        {"baseline_delay_ns", e.baseline_delay_ns ? json(*e.baseline_delay_ns) : json(nullptr)},
        {"child_minor_faults", e.child_minor_faults ? json(*e.child_minor_faults) : json(nullptr)},
        {"zero_page_bytes_at_fork", e.zero_page_bytes_at_fork},
        {"thp_bytes_at_fork", e.thp_bytes_at_fork},
        {"ksm_bytes_at_fork", e.ksm_bytes_at_fork},
        {"approximations", e.approximations},
        {"census_cost_ns", e.census_cost_ns},
        {"call_site", call_site_json(tree, e.parent, child.call_site)},
        {"samples", std::move(samples)},
        {"regions", std::move(regions)},
        {"attribution", std::move(attribution)},
        {"attribution_summary", attribution_summary_json(e)}};
}

json memory_json(const model::Process& p) {
    json out = json::array();
    for (const auto& m : p.memory) {
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
        json execs = json::array();
        for (const auto& e : p.execs) {
            json x{{"t_ns", e.t_ns}, {"path", e.path}, {"argv", e.argv}, {"ok", e.ok}};
            if (e.requested_path != e.path) x["requested_path"] = e.requested_path;
            if (!e.ok && e.error) x["error"] = strerror(e.error);
            if (e.argv_truncated) x["argv_truncated"] = true;
            if (e.image.any()) x["image"] = model::image_text(e.image);
            if (e.env_reinjected) x["env_reinjected"] = true;
            execs.push_back(std::move(x));
        }
        json proc{{"pid", p.pid},
                  {"ppid", p.ppid > 0 ? json(p.ppid) : json(nullptr)},
                  {"start_ns", p.start_ns},
                  {"end_ns", p.end_ns ? json(*p.end_ns) : json(nullptr)},
                  {"execs", std::move(execs)},
                  {"exit", exit_json(p.exit)},
                  {"how", model::create_how_name(p.how)},
                  {"argv", p.argv},
                  {"call_site", call_site_json(tree, p.ppid, p.call_site)},
                  {"flags", limits_json(tree, p)},
                  {"name", labels.name(i)},
                  {"command_line", labels.command_line(i)},
                  {"children", p.children}};
        if (!p.memory.empty()) proc["memory"] = memory_json(p);
        if (p.dropped_records || p.seq_gaps) {
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
    return json{
        {"root_pid", tree.root_pid},
        {"summary", std::move(summary)},
        {"processes", std::move(processes)},
        {"forks", std::move(forks)},
        {"trace",
         {{"format", "cowtrace"},
          {"complete", tree.complete},
          {"reader_error", tree.reader_error.empty() ? json(nullptr) : json(tree.reader_error)},
          {"command", tree.command},
          {"command_line", command_text(tree.command)},
          {"host", tree.host},
          {"kernel_release", tree.kernel_release},
          {"kernel_events", tree.kernel_events},
          {"kernel_events_note", tree.kernel_events_note},
          {"kernel_events_lost", tree.kernel_events_lost},
          {"shim_records", tree.shim_records},
          {"rejected_records", tree.rejected_records},
          {"dropped_records", tree.dropped_records},
          {"duration_ns", tree.end_ns},
          {"wall_start_ns", tree.wall_t0_ns},
          {"census_mode", model::census_mode_name(tree.census_mode)},
          {"attached", tree.attached},
          {"sampling_interval_ns", tree.sampling_interval_ns},
          {"requested_interval_ns", tree.interval_ns},
          {"root_exit", root_exit},
          {"notes", std::move(notes)}}}};
}

}  // namespace cowtrace::report

#include "diff_report.hpp"

#include <fmt/format.h>

#include "report/byte_size.hpp"

namespace cowtrace::diff {

namespace {

using report::format_bytes;

std::string plural(size_t n, const char* one, const char* many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string run_line(const RunFigures& r) {
    std::string line = plural(r.processes, "process", "processes");
    if (r.census) {
        line += fmt::format(", {} ({} measured) copied {}", plural(r.forks, "fork", "forks"),
                            r.measured_forks, format_bytes(r.copied_bytes_total));
    } else {
        line += ", copy-on-write not measured";
    }
    if (r.memory_sampled) line += ", tree PSS peak " + format_bytes(r.tree_pss_peak_bytes);
    if (!r.command.empty()) line += " — " + r.command;
    return line;
}

// The growth column: 8 wide, so that the sites line up.
std::string column(const std::string& text) {
    return fmt::format("  {:<8}", text);
}

void write_site(const ForkSiteDiff& s, std::ostream& out) {
    std::string where = site_text(s);
    if (!s.old_run) {
        const ForkSiteFigures& n = *s.new_run;
        out << column("new") << where << ": not in OLD; " << plural(n.forks, "fork", "forks")
            << (n.has_copy_figures()
                    ? fmt::format(", the largest copied {} (pid {})",
                                  format_bytes(n.largest_copied_bytes), n.largest_child)
                    : ", none measured (short-lived)")
            << "\n";
        return;
    }
    if (!s.new_run) {
        const ForkSiteFigures& o = *s.old_run;
        out << column("gone") << where << ": not in NEW; " << plural(o.forks, "fork", "forks")
            << (o.has_copy_figures() ? fmt::format(" in OLD, the largest copied {}",
                                                   format_bytes(o.largest_copied_bytes))
                                     : " in OLD, none measured")
            << "\n";
        return;
    }
    const ForkSiteFigures& o = *s.old_run;
    const ForkSiteFigures& n = *s.new_run;
    std::string forks = fmt::format("{} → {} forks", o.forks, n.forks);
    if (!o.has_copy_figures() || !n.has_copy_figures()) {
        out << column("?") << where << ": " << forks << "; not measured in "
            << (!o.has_copy_figures() && !n.has_copy_figures() ? "either run"
                : !o.has_copy_figures()                        ? "OLD"
                                                               : "NEW")
            << " (short-lived forks)";
        if (n.has_copy_figures())
            out << fmt::format("; NEW's largest copied {} (pid {})",
                               format_bytes(n.largest_copied_bytes), n.largest_child);
        out << "\n";
        return;
    }
    out << column(growth_text(o.largest_copied_bytes, n.largest_copied_bytes)) << where << ": "
        << fmt::format("{} (pid {}) → {} (pid {}); {}; {} → {} in all",
                       format_bytes(o.largest_copied_bytes), o.largest_child,
                       format_bytes(n.largest_copied_bytes), n.largest_child, forks,
                       format_bytes(o.copied_bytes_total), format_bytes(n.copied_bytes_total))
        << "\n";
}

std::string group_name(const ProcessGroupDiff& g) {
    const ProcessGroupFigures& any = g.new_run ? *g.new_run : *g.old_run;
    return fmt::format("{} `{}`", g.program, any.command);
}

void write_group(const ProcessGroupDiff& g, std::ostream& out) {
    if (!g.old_run) {
        out << column("new") << group_name(g) << ": not in OLD; "
            << plural(g.new_run->count, "process", "processes")
            << (g.new_run->peak_rss_bytes ? ", peak RSS " + format_bytes(g.new_run->peak_rss_bytes)
                                          : "")
            << "\n";
        return;
    }
    if (!g.new_run) {
        out << column("gone") << group_name(g) << ": not in NEW; "
            << plural(g.old_run->count, "process", "processes") << " in OLD\n";
        return;
    }
    const ProcessGroupFigures& o = *g.old_run;
    const ProcessGroupFigures& n = *g.new_run;
    bool sampled = o.peak_rss_bytes && n.peak_rss_bytes;
    out << column(sampled ? growth_text(o.peak_rss_bytes, n.peak_rss_bytes) : "?") << group_name(g)
        << ": ";
    if (sampled) {
        out << fmt::format("peak RSS {} → {}, peak PSS {} → {}; ", format_bytes(o.peak_rss_bytes),
                           format_bytes(n.peak_rss_bytes), format_bytes(o.peak_pss_bytes),
                           format_bytes(n.peak_pss_bytes));
    } else {
        out << "no memory samples; ";
    }
    out << fmt::format("{} → {}", o.count, plural(n.count, "process", "processes")) << "\n";
    if (g.matched_by_program_only) out << column("") << "  (OLD ran `" << o.command << "`)\n";
}

nlohmann::json run_json(const RunFigures& r, const std::string& path) {
    nlohmann::json j = {{"trace", path},
                        {"command", r.command},
                        {"processes", r.processes},
                        {"forks", r.forks},
                        {"measured_forks", r.measured_forks}};
    j["copied_bytes_total"] = r.census ? nlohmann::json(r.copied_bytes_total) : nlohmann::json();
    j["tree_pss_peak_bytes"] =
        r.memory_sampled ? nlohmann::json(r.tree_pss_peak_bytes) : nlohmann::json();
    j["peak_rss_bytes"] = r.memory_sampled ? nlohmann::json(r.peak_rss_bytes) : nlohmann::json();
    return j;
}

nlohmann::json maybe(const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json();
}

nlohmann::json site_json(const std::optional<ForkSiteFigures>& f) {
    if (!f) return nullptr;
    nlohmann::json j = {{"forks", f->forks}, {"measured", f->measured}};
    if (f->has_copy_figures()) {
        j["largest_copied_bytes"] = f->largest_copied_bytes;
        j["largest_child"] = f->largest_child;
        j["largest_command"] = f->largest_command;
        j["largest_shared_bytes_at_fork"] = f->largest_shared_bytes;
        j["copied_bytes_total"] = f->copied_bytes_total;
    } else {
        j["largest_copied_bytes"] = j["largest_child"] = j["copied_bytes_total"] = nullptr;
    }
    return j;
}

nlohmann::json group_json(const std::optional<ProcessGroupFigures>& g) {
    if (!g) return nullptr;
    nlohmann::json j = {{"count", g->count}, {"command", g->command}};
    j["peak_rss_bytes"] = g->peak_rss_bytes ? nlohmann::json(g->peak_rss_bytes) : nlohmann::json();
    j["peak_pss_bytes"] = g->peak_pss_bytes ? nlohmann::json(g->peak_pss_bytes) : nlohmann::json();
    return j;
}

}  // namespace

void write_diff_text(const TraceDiff& d, const DiffPaths& paths, std::ostream& out) {
    out << "cowtrace diff: OLD " << paths.old_trace << " → NEW " << paths.new_trace << "\n";
    out << "  OLD: " << run_line(d.old_run) << "\n";
    out << "  NEW: " << run_line(d.new_run) << "\n";
    const RunFigures& o = d.old_run;
    const RunFigures& n = d.new_run;
    out << "\nwhole run, OLD → NEW:\n";
    out << column(growth_text(o.processes, n.processes))
        << fmt::format("processes: {} → {}\n", o.processes, n.processes);
    if (o.census && n.census) {
        out << column(growth_text(o.copied_bytes_total, n.copied_bytes_total))
            << fmt::format("copied by all measured forks: {} → {}\n",
                           format_bytes(o.copied_bytes_total), format_bytes(n.copied_bytes_total));
    }
    if (o.memory_sampled && n.memory_sampled) {
        out << column(growth_text(o.tree_pss_peak_bytes, n.tree_pss_peak_bytes))
            << fmt::format("tree PSS peak: {} → {}\n", format_bytes(o.tree_pss_peak_bytes),
                           format_bytes(n.tree_pss_peak_bytes));
        out << column(growth_text(o.peak_rss_bytes, n.peak_rss_bytes))
            << fmt::format("largest RSS: {} (pid {}) → {} (pid {})\n",
                           format_bytes(o.peak_rss_bytes), o.peak_rss_pid,
                           format_bytes(n.peak_rss_bytes), n.peak_rss_pid);
    }
    if (!d.fork_sites.empty()) {
        out << "\nfork call sites: the largest copy of one fork, OLD → NEW (forks; copied in "
               "all):\n";
        for (const auto& s : d.fork_sites) write_site(s, out);
    }
    if (!d.processes.empty()) {
        out << "\nprocesses by program and command line, OLD → NEW:\n";
        for (const auto& g : d.processes) write_group(g, out);
    }
}

nlohmann::json diff_to_json(const TraceDiff& d, const DiffPaths& paths) {
    nlohmann::json j;
    j["old"] = run_json(d.old_run, paths.old_trace);
    j["new"] = run_json(d.new_run, paths.new_trace);
    nlohmann::json growth;
    growth["processes"] =
        static_cast<int64_t>(d.new_run.processes) - static_cast<int64_t>(d.old_run.processes);
    growth["copied_bytes_total_percent"] =
        d.old_run.census && d.new_run.census
            ? maybe(growth_percent(d.old_run.copied_bytes_total, d.new_run.copied_bytes_total))
            : nullptr;
    growth["tree_pss_peak_percent"] =
        d.old_run.memory_sampled && d.new_run.memory_sampled
            ? maybe(growth_percent(d.old_run.tree_pss_peak_bytes, d.new_run.tree_pss_peak_bytes))
            : nullptr;
    j["growth"] = growth;
    j["fork_sites"] = nlohmann::json::array();
    for (const auto& s : d.fork_sites) {
        nlohmann::json site = {{"program", s.program}, {"how", s.how}, {"frames", s.frames}};
        site["old"] = site_json(s.old_run);
        site["new"] = site_json(s.new_run);
        bool comparable = s.old_run && s.new_run && s.old_run->has_copy_figures() &&
                          s.new_run->has_copy_figures();
        site["largest_copied_growth_percent"] =
            comparable ? maybe(growth_percent(s.old_run->largest_copied_bytes,
                                              s.new_run->largest_copied_bytes))
                       : nullptr;
        j["fork_sites"].push_back(site);
    }
    j["processes"] = nlohmann::json::array();
    for (const auto& g : d.processes) {
        nlohmann::json group = {{"program", g.program},
                                {"matched_by_program_only", g.matched_by_program_only}};
        group["old"] = group_json(g.old_run);
        group["new"] = group_json(g.new_run);
        bool comparable =
            g.old_run && g.new_run && g.old_run->peak_rss_bytes && g.new_run->peak_rss_bytes;
        group["peak_rss_growth_percent"] =
            comparable ? maybe(growth_percent(g.old_run->peak_rss_bytes, g.new_run->peak_rss_bytes))
                       : nullptr;
        j["processes"].push_back(group);
    }
    return j;
}

}  // namespace cowtrace::diff

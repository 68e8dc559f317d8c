#include "growth_check.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "report/byte_size.hpp"

namespace cowtrace::check {

namespace {

using diff::ForkSiteDiff;
using diff::ForkSiteFigures;
using diff::growth_percent;
using diff::growth_text;
using diff::ProcessGroupDiff;
using report::format_bytes;

constexpr size_t kMaxOffenders = 10;

std::string percent_text(double pct) {
    return pct == static_cast<double>(static_cast<int64_t>(pct)) ? fmt::format("{:.0f}%", pct)
                                                                 : fmt::format("{:.1f}%", pct);
}

void add_offenders(BudgetResult& r, const std::vector<std::string>& all) {
    for (size_t i = 0; i < all.size() && i < kMaxOffenders; ++i) r.offenders.push_back(all[i]);
    if (all.size() > kMaxOffenders)
        r.offenders.push_back(fmt::format("… and {} more", all.size() - kMaxOffenders));
}

// A growth that breaks the limit: over the percentage and not below the noise floor.
bool grew_over(uint64_t old_bytes, uint64_t new_bytes, double limit_pct, uint64_t floor_bytes) {
    if (new_bytes <= old_bytes || new_bytes - old_bytes < floor_bytes) return false;
    std::optional<double> pct = growth_percent(old_bytes, new_bytes);
    return !pct || *pct > limit_pct;
}

std::string fork_of(const ForkSiteFigures& f) {
    return fmt::format("pid {} `{}` copied {} of {} shared at fork", f.largest_child,
                       f.largest_command, format_bytes(f.largest_copied_bytes),
                       format_bytes(f.largest_shared_bytes));
}

BudgetResult cow_growth(const diff::TraceDiff& d, double limit, uint64_t floor_bytes) {
    BudgetResult r{"max-cow-growth", percent_text(limit), Verdict::kMet, "", {}, kExitCowBudget};
    if (!d.old_run.census || !d.new_run.census) {
        r.verdict = Verdict::kNotMeasured;
        r.summary = fmt::format(
            "cannot be checked: the {} has no copy-on-write census "
            "(recorded with --no-cow?)",
            !d.old_run.census ? "baseline" : "trace");
        return r;
    }
    struct Grown {
        const ForkSiteDiff* site;
        uint64_t old_bytes, new_bytes;
    };
    std::vector<Grown> over;
    size_t compared = 0;
    const ForkSiteDiff* most = nullptr;
    double most_pct = 0;
    for (const auto& s : d.fork_sites) {
        if (!s.new_run || !s.new_run->has_copy_figures()) continue;
        // Nothing measured in the baseline (all short-lived) is no figure, not zero.
        if (s.old_run && !s.old_run->has_copy_figures()) continue;
        uint64_t before = s.old_run ? s.old_run->largest_copied_bytes : 0;
        uint64_t after = s.new_run->largest_copied_bytes;
        if (s.old_run) {
            ++compared;
            double pct = growth_percent(before, after).value_or(0);
            if (!most || pct > most_pct) {
                most = &s;
                most_pct = pct;
            }
        }
        if (grew_over(before, after, limit, floor_bytes)) over.push_back({&s, before, after});
    }
    if (over.empty()) {
        r.summary = compared == 0
                        ? "no fork call site of the trace was measured in both runs"
                        : fmt::format(
                              "no fork call site's largest copy grew more than {} over the "
                              "baseline ({} compared; the most: {}, {})",
                              percent_text(limit), compared,
                              growth_text(most->old_run->largest_copied_bytes,
                                          most->new_run->largest_copied_bytes),
                              diff::site_text(*most, 1));
        return r;
    }
    std::stable_sort(over.begin(), over.end(), [](const Grown& a, const Grown& b) {
        return a.new_bytes - a.old_bytes > b.new_bytes - b.old_bytes;
    });
    const Grown& worst = over.front();
    const ForkSiteFigures& now = *worst.site->new_run;
    r.verdict = Verdict::kExceeded;
    r.summary = fmt::format(
        "a fork's copy was to grow at most {} over the baseline but {} copied {} (pid {}), {}{}",
        percent_text(limit), diff::site_text(*worst.site), format_bytes(now.largest_copied_bytes),
        now.largest_child,
        worst.site->old_run
            ? fmt::format("{} over the baseline's {} (pid {})",
                          growth_text(worst.old_bytes, worst.new_bytes),
                          format_bytes(worst.old_bytes), worst.site->old_run->largest_child)
            : std::string("a call site the baseline did not fork from"),
        over.size() > 1 ? fmt::format(" ({} call sites over the limit)", over.size()) : "");
    std::vector<std::string> lines;
    for (const auto& g : over) {
        const ForkSiteFigures& n = *g.site->new_run;
        if (g.site->old_run) {
            lines.push_back(fmt::format("{}: the largest copy {} (pid {}) → {} (pid {}), {}; {}",
                                        diff::site_text(*g.site), format_bytes(g.old_bytes),
                                        g.site->old_run->largest_child, format_bytes(g.new_bytes),
                                        n.largest_child, growth_text(g.old_bytes, g.new_bytes),
                                        fork_of(n)));
        } else {
            lines.push_back(fmt::format("{}: not in the baseline; {} ({} fork{})",
                                        diff::site_text(*g.site), fork_of(n), n.forks,
                                        n.forks == 1 ? "" : "s"));
        }
    }
    add_offenders(r, lines);
    return r;
}

BudgetResult rss_growth(const diff::TraceDiff& d, double limit, uint64_t floor_bytes) {
    BudgetResult r{"max-rss-growth", percent_text(limit), Verdict::kMet, "", {}, kExitMemoryBudget};
    if (!d.old_run.memory_sampled || !d.new_run.memory_sampled) {
        r.verdict = Verdict::kNotMeasured;
        r.summary = fmt::format(
            "cannot be checked: the {} has no memory samples "
            "(recorded with --no-cow?)",
            !d.old_run.memory_sampled ? "baseline" : "trace");
        return r;
    }
    std::vector<std::string> lines;
    std::string first;
    uint64_t pss_old = d.old_run.tree_pss_peak_bytes, pss_new = d.new_run.tree_pss_peak_bytes;
    if (grew_over(pss_old, pss_new, limit, floor_bytes)) {
        first = fmt::format("the tree's PSS peak grew from {} to {}, {}", format_bytes(pss_old),
                            format_bytes(pss_new), growth_text(pss_old, pss_new));
        lines.push_back(fmt::format("the whole tree: PSS peak {} → {}, {}", format_bytes(pss_old),
                                    format_bytes(pss_new), growth_text(pss_old, pss_new)));
    }
    std::vector<const ProcessGroupDiff*> groups;
    for (const auto& g : d.processes) {
        if (!g.old_run || !g.new_run) continue;
        if (!g.old_run->peak_rss_bytes || !g.new_run->peak_rss_bytes) continue;
        if (grew_over(g.old_run->peak_rss_bytes, g.new_run->peak_rss_bytes, limit, floor_bytes))
            groups.push_back(&g);
    }
    // d.processes comes largest growth first.
    for (const auto* g : groups) {
        const auto& o = *g->old_run;
        const auto& n = *g->new_run;
        std::string line = fmt::format(
            "{} `{}`: peak RSS {} (pid {}) → {} (pid {}), {}", g->program, n.command,
            format_bytes(o.peak_rss_bytes), o.peak_rss_pid, format_bytes(n.peak_rss_bytes),
            n.peak_rss_pid, growth_text(o.peak_rss_bytes, n.peak_rss_bytes));
        if (g->matched_by_program_only) line += fmt::format(" (the baseline ran `{}`)", o.command);
        lines.push_back(line);
        if (first.empty()) {
            first = fmt::format("pid {} `{}` reached an RSS of {}, {} over the baseline's {}",
                                n.peak_rss_pid, n.command, format_bytes(n.peak_rss_bytes),
                                growth_text(o.peak_rss_bytes, n.peak_rss_bytes),
                                format_bytes(o.peak_rss_bytes));
        }
    }
    if (lines.empty()) {
        r.summary = fmt::format(
            "memory grew at most {} over the baseline: the tree's PSS peak {} → {} ({})",
            percent_text(limit), format_bytes(pss_old), format_bytes(pss_new),
            growth_text(pss_old, pss_new));
        return r;
    }
    r.verdict = Verdict::kExceeded;
    r.summary = fmt::format(
        "memory was to grow at most {} over the baseline but {}{}", percent_text(limit), first,
        lines.size() > 1 ? fmt::format(" ({} over the limit)", lines.size()) : "");
    add_offenders(r, lines);
    return r;
}

BudgetResult processes_growth(const diff::TraceDiff& d, uint64_t limit) {
    BudgetResult r{"max-processes-growth", std::to_string(limit), Verdict::kMet, "", {},
                   kExitProcessBudget};
    uint64_t before = d.old_run.processes, after = d.new_run.processes;
    if (after <= before + limit) {
        r.summary = fmt::format("the run had {} processes, the baseline {} (at most {} more)",
                                after, before, limit);
        return r;
    }
    r.verdict = Verdict::kExceeded;
    r.summary = fmt::format(
        "the run was to have at most {} more process{} than the baseline's {} but had {} (+{})",
        limit, limit == 1 ? "" : "es", before, after, after - before);
    struct More {
        const ProcessGroupDiff* group;
        int64_t more;
    };
    std::vector<More> more;
    for (const auto& g : d.processes) {
        int64_t n = g.new_run ? static_cast<int64_t>(g.new_run->count) : 0;
        int64_t o = g.old_run ? static_cast<int64_t>(g.old_run->count) : 0;
        if (n > o) more.push_back({&g, n - o});
    }
    std::stable_sort(more.begin(), more.end(),
                     [](const More& a, const More& b) { return a.more > b.more; });
    std::vector<std::string> lines;
    for (const auto& m : more) {
        const ProcessGroupDiff& g = *m.group;
        lines.push_back(g.old_run ? fmt::format("{} `{}`: {} → {} processes (+{})", g.program,
                                                g.new_run->command, g.old_run->count,
                                                g.new_run->count, m.more)
                                  : fmt::format("{} `{}`: {} process{}, not in the baseline",
                                                g.program, g.new_run->command, g.new_run->count,
                                                g.new_run->count == 1 ? "" : "es"));
    }
    add_offenders(r, lines);
    return r;
}

}  // namespace

std::vector<BudgetResult> check_growth(const diff::TraceDiff& diff, const GrowthBudgets& b) {
    std::vector<BudgetResult> out;
    if (b.max_cow_growth_percent)
        out.push_back(cow_growth(diff, *b.max_cow_growth_percent, b.ignore_below_bytes));
    if (b.max_rss_growth_percent)
        out.push_back(rss_growth(diff, *b.max_rss_growth_percent, b.ignore_below_bytes));
    if (b.max_processes_growth) out.push_back(processes_growth(diff, *b.max_processes_growth));
    return out;
}

}  // namespace cowtrace::check

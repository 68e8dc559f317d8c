#include "budget_check.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "report/byte_size.hpp"
#include "report/call_sites.hpp"
#include "report/copy_paths.hpp"
#include "report/copy_totals.hpp"
#include "report/memory_timeline.hpp"
#include "report/process_labels.hpp"

namespace cowtrace::check {

namespace {

using model::ForkEpisode;
using model::Process;
using model::ProcessTree;
using report::format_bytes;
using report::format_percent;

// A failure names its worst offenders; a CI log needs no more than this many.
constexpr size_t kMaxOffenders = 10;

std::string seconds(uint64_t ns) {
    return fmt::format("{:.3f}s", static_cast<double>(ns) / 1e9);
}

std::string percent_text(double pct) {
    return pct == static_cast<double>(static_cast<int64_t>(pct)) ? fmt::format("{:.0f}%", pct)
                                                                 : fmt::format("{:.1f}%", pct);
}

class BudgetChecker {
public:
    explicit BudgetChecker(const ProcessTree& tree) : tree_(tree), labels_(tree) {}

    std::vector<BudgetResult> check(const Budgets& b) {
        std::vector<BudgetResult> out;
        if (b.max_cow_bytes) out.push_back(max_cow(*b.max_cow_bytes));
        if (b.max_cow_ratio_percent) out.push_back(max_cow_ratio(*b.max_cow_ratio_percent));
        if (b.max_cow_concurrent_bytes)
            out.push_back(max_cow_concurrent(*b.max_cow_concurrent_bytes));
        if (b.max_rss_bytes) out.push_back(max_rss(*b.max_rss_bytes));
        if (b.max_tree_pss_bytes) out.push_back(max_tree_pss(*b.max_tree_pss_bytes));
        if (b.max_processes) out.push_back(max_processes(*b.max_processes));
        if (b.no_leftover_processes) out.push_back(no_leftovers());
        return out;
    }

private:
    std::string who(size_t index) const {
        return fmt::format("pid {} `{}`", tree_.processes[index].pid, labels_.command_line(index));
    }

    std::string created_where(size_t index) const {
        const Process& p = tree_.processes[index];
        std::optional<size_t> creator = labels_.creator(index);
        std::string by = creator
                             ? fmt::format("pid {}", tree_.processes[*creator].pid)
                             : (p.ppid > 0 ? fmt::format("pid {}", p.ppid) : "an unknown process");
        // Observed from outside (attach), how it was created is not known: no "unknown()".
        std::string how = p.how == wire::CreateHow::kUnknown
                              ? "created"
                              : fmt::format("from {}()", model::create_how_name(p.how));
        return fmt::format("{} in {} at {}", how, by, report::call_site_text(tree_, p));
    }

    std::string episode_text(const ForkEpisode& e) const {
        std::string split = e.split_known
                                ? fmt::format("; by parent {}, by child {}",
                                              format_bytes(tree_.copied_by_parent_bytes(e)),
                                              format_bytes(tree_.copied_by_child_bytes(e)))
                                : "";
        return fmt::format("{}: copied {} of {} shared at fork ({}{}); {}", who(e.child_index),
                           format_bytes(e.copied_bytes_peak), format_bytes(e.shared_bytes_at_fork),
                           format_percent(e.copied_bytes_peak, e.shared_bytes_at_fork), split,
                           created_where(e.child_index));
    }

    bool census_recorded() const { return tree_.census_mode != model::CensusMode::kOff; }

    BudgetResult not_measured(BudgetResult r, const std::string& why) const {
        r.verdict = Verdict::kNotMeasured;
        r.summary = "cannot be checked: " + why;
        return r;
    }

    static void add_offenders(BudgetResult& r, const std::vector<std::string>& all) {
        for (size_t i = 0; i < all.size() && i < kMaxOffenders; ++i) r.offenders.push_back(all[i]);
        if (all.size() > kMaxOffenders)
            r.offenders.push_back(fmt::format("… and {} more", all.size() - kMaxOffenders));
    }

    // Episodes worst first by the given measure, those over the limit only.
    template <class Over, class Measure>
    std::vector<const ForkEpisode*> episodes_over(Over over, Measure measure) const {
        std::vector<const ForkEpisode*> out;
        for (const auto& e : tree_.episodes) {
            if (e.child_index < tree_.processes.size() && over(e)) out.push_back(&e);
        }
        std::stable_sort(out.begin(), out.end(), [&](const ForkEpisode* a, const ForkEpisode* b) {
            return measure(*a) > measure(*b);
        });
        return out;
    }

    BudgetResult max_cow(uint64_t limit) const {
        BudgetResult r{"max-cow", format_bytes(limit), Verdict::kMet, "", {}, kExitCowBudget};
        if (!census_recorded())
            return not_measured(r,
                                "the trace has no copy-on-write census (recorded with --no-cow?)");
        auto peak = [](const ForkEpisode& e) { return static_cast<double>(e.copied_bytes_peak); };
        auto over =
            episodes_over([&](const ForkEpisode& e) { return e.copied_bytes_peak > limit; }, peak);
        if (over.empty()) {
            uint64_t largest = 0;
            for (const auto& e : tree_.episodes) largest = std::max(largest, e.copied_bytes_peak);
            r.summary = tree_.episodes.empty()
                            ? "no fork episode in the trace"
                            : fmt::format("the largest of {} fork episodes copied {} (limit {})",
                                          tree_.episodes.size(), format_bytes(largest),
                                          format_bytes(limit));
            return r;
        }
        r.verdict = Verdict::kExceeded;
        // Where the sampled page faults say who copied: the largest call path.
        std::string by_code;
        if (!over.front()->copy_paths().empty())
            by_code = "; most by " + report::top_copy_paths(*over.front(), 1).front();
        r.summary = fmt::format(
            "a fork was limited to {} of copied memory but pid {} copied {}{}{}",
            format_bytes(limit), over.front()->child, format_bytes(over.front()->copied_bytes_peak),
            over.size() > 1 ? fmt::format(" ({} forks over the limit)", over.size()) : "", by_code);
        std::vector<std::string> lines;
        for (const auto* e : over) lines.push_back(episode_text(*e));
        add_offenders(r, lines);
        return r;
    }

    BudgetResult max_cow_concurrent(uint64_t limit) const {
        BudgetResult r{"max-cow-concurrent", format_bytes(limit), Verdict::kMet, "", {},
                       kExitCowBudget};
        if (!census_recorded())
            return not_measured(r,
                                "the trace has no copy-on-write census (recorded with --no-cow?)");
        report::CopyTotals copies = report::copy_totals(tree_);
        uint64_t peak = copies.peak_concurrent_bytes;
        if (peak <= limit) {
            r.summary = copies.measured == 0
                            ? "no measured fork episode in the trace"
                            : fmt::format(
                                  "at most {} was copied at once, at {} (limit {}; {} in "
                                  "all, each fork's peak summed)",
                                  format_bytes(peak), seconds(copies.peak_concurrent_t_ns),
                                  format_bytes(limit), format_bytes(copies.total_bytes));
            return r;
        }
        r.verdict = Verdict::kExceeded;
        uint64_t t = copies.peak_concurrent_t_ns;
        auto held = [this, t](const ForkEpisode& e) { return report::copied_held_at(tree_, e, t); };
        auto alive =
            episodes_over([&](const ForkEpisode& e) { return held(e) > 0; },
                          [&](const ForkEpisode& e) { return static_cast<double>(held(e)); });
        r.summary = fmt::format(
            "the forks alive at one time were limited to {} of copied memory together but held {} "
            "at {} ({} fork{} alive then)",
            format_bytes(limit), format_bytes(peak), seconds(t), alive.size(),
            alive.size() == 1 ? "" : "s");
        std::vector<std::string> lines;
        for (const auto* e : alive) {
            lines.push_back(fmt::format("{} then; {}", format_bytes(held(*e)), episode_text(*e)));
        }
        add_offenders(r, lines);
        return r;
    }

    BudgetResult max_cow_ratio(double limit_pct) const {
        BudgetResult r{"max-cow-ratio", percent_text(limit_pct), Verdict::kMet, "", {},
                       kExitCowBudget};
        if (!census_recorded())
            return not_measured(r,
                                "the trace has no copy-on-write census (recorded with --no-cow?)");
        auto ratio = [](const ForkEpisode& e) {
            return e.shared_bytes_at_fork == 0 ? 0.0
                                               : 100.0 * static_cast<double>(e.copied_bytes_peak) /
                                                     static_cast<double>(e.shared_bytes_at_fork);
        };
        auto over = episodes_over(
            [&](const ForkEpisode& e) {
                return e.shared_bytes_at_fork > 0 && ratio(e) > limit_pct;
            },
            ratio);
        if (over.empty()) {
            double highest = 0;
            for (const auto& e : tree_.episodes) highest = std::max(highest, ratio(e));
            r.summary =
                tree_.episodes.empty()
                    ? "no fork episode in the trace"
                    : fmt::format("the highest share any fork copied was {:.1f}% (limit {})",
                                  highest, percent_text(limit_pct));
            return r;
        }
        const ForkEpisode& worst = *over.front();
        r.verdict = Verdict::kExceeded;
        r.summary = fmt::format(
            "a fork was limited to copying {} of what it shared but pid {} copied {:.1f}% ({} of "
            "{}){}",
            percent_text(limit_pct), worst.child, ratio(worst),
            format_bytes(worst.copied_bytes_peak), format_bytes(worst.shared_bytes_at_fork),
            over.size() > 1 ? fmt::format(" ({} forks over the limit)", over.size()) : "");
        std::vector<std::string> lines;
        for (const auto* e : over) lines.push_back(episode_text(*e));
        add_offenders(r, lines);
        return r;
    }

    BudgetResult max_rss(uint64_t limit) const {
        BudgetResult r{"max-rss", format_bytes(limit), Verdict::kMet, "", {}, kExitMemoryBudget};
        if (!report::has_memory_samples(tree_))
            return not_measured(r, "the trace has no memory samples (recorded with --no-cow?)");
        struct Peak {
            size_t index;
            uint64_t rss;
            uint64_t t_ns;
        };
        std::vector<Peak> over;
        for (size_t i = 0; i < tree_.processes.size(); ++i) {
            Peak peak{i, 0, 0};
            for (const auto& m : tree_.memory_of(tree_.processes[i])) {
                if (m.rss_bytes > peak.rss) peak = {i, m.rss_bytes, m.t_ns};
            }
            if (peak.rss > limit) over.push_back(peak);
        }
        if (over.empty()) {
            report::ProcessMemoryPeak peak = report::peak_rss(tree_);
            r.summary =
                fmt::format("the largest RSS was {} ({}; limit {})", format_bytes(peak.rss_bytes),
                            who(peak.process), format_bytes(limit));
            return r;
        }
        std::stable_sort(over.begin(), over.end(),
                         [](const Peak& a, const Peak& b) { return a.rss > b.rss; });
        r.verdict = Verdict::kExceeded;
        r.summary = fmt::format(
            "a process was limited to {} RSS but pid {} reached {} at {}{}", format_bytes(limit),
            tree_.processes[over.front().index].pid, format_bytes(over.front().rss),
            seconds(over.front().t_ns),
            over.size() > 1 ? fmt::format(" ({} processes over the limit)", over.size()) : "");
        std::vector<std::string> lines;
        for (const auto& p : over) {
            lines.push_back(fmt::format("{}: RSS {} at {}; {}", who(p.index), format_bytes(p.rss),
                                        seconds(p.t_ns), created_where(p.index)));
        }
        add_offenders(r, lines);
        return r;
    }

    BudgetResult max_tree_pss(uint64_t limit) const {
        BudgetResult r{"max-tree-pss",   format_bytes(limit), Verdict::kMet, "", {},
                       kExitMemoryBudget};
        if (!report::has_memory_samples(tree_))
            return not_measured(r, "the trace has no memory samples (recorded with --no-cow?)");
        report::TreePssPoint peak = report::peak_tree_pss(report::tree_pss_series(tree_));
        if (peak.pss_bytes <= limit) {
            r.summary =
                fmt::format("the tree's PSS peaked at {} at {} (limit {})",
                            format_bytes(peak.pss_bytes), seconds(peak.t_ns), format_bytes(limit));
            return r;
        }
        r.verdict = Verdict::kExceeded;
        r.summary =
            fmt::format("the process tree was limited to {} PSS but reached {} at {}",
                        format_bytes(limit), format_bytes(peak.pss_bytes), seconds(peak.t_ns));
        std::vector<std::string> lines;
        for (const auto& share : report::tree_pss_shares_at(tree_, peak.t_ns)) {
            lines.push_back(fmt::format("{}: PSS {} then; {}", who(share.process),
                                        format_bytes(share.pss_bytes),
                                        created_where(share.process)));
        }
        add_offenders(r, lines);
        return r;
    }

    BudgetResult max_processes(uint64_t limit) const {
        BudgetResult r{"max-processes",   std::to_string(limit), Verdict::kMet, "", {},
                       kExitProcessBudget};
        uint64_t n = tree_.processes.size();
        if (n <= limit) {
            r.summary =
                fmt::format("the run had {} process{} (limit {})", n, n == 1 ? "" : "es", limit);
            return r;
        }
        r.verdict = Verdict::kExceeded;
        r.summary = fmt::format("the run was limited to {} process{} but had {}", limit,
                                limit == 1 ? "" : "es", n);
        // The processes that created the most, since that is where a fork loop or a fan-out is.
        std::vector<size_t> creators;
        for (size_t i = 0; i < tree_.processes.size(); ++i) {
            if (!tree_.children_of(tree_.processes[i]).empty()) creators.push_back(i);
        }
        std::stable_sort(creators.begin(), creators.end(), [&](size_t a, size_t b) {
            return tree_.children_of(tree_.processes[a]).size() >
                   tree_.children_of(tree_.processes[b]).size();
        });
        std::vector<std::string> lines;
        for (size_t i : creators) {
            size_t kids = tree_.children_of(tree_.processes[i]).size();
            lines.push_back(
                fmt::format("{} created {} process{}", who(i), kids, kids == 1 ? "" : "es"));
        }
        add_offenders(r, lines);
        return r;
    }

    BudgetResult no_leftovers() const {
        BudgetResult r{"no-leftover-processes", "", Verdict::kMet, "", {}, kExitProcessBudget};
        const Process* root = report::root_command(tree_);
        if (root == nullptr)
            return not_measured(
                r, "the trace has no traced command (recorded with `cowtrace record`)");
        if (!root->end_ns() || root->still_running) {
            return not_measured(
                r,
                fmt::format("the command (pid {}) had not ended when the trace ended", root->pid));
        }
        size_t root_index = labels_.index_of(*root);
        std::vector<std::string> lines;
        std::span<const uint32_t> root_children = tree_.children_of(*root);
        std::vector<size_t> stack(root_children.begin(), root_children.end());
        std::vector<bool> seen(tree_.processes.size(), false);
        while (!stack.empty()) {
            size_t i = stack.back();
            stack.pop_back();
            if (i >= tree_.processes.size() || seen[i] || i == root_index) continue;
            seen[i] = true;
            const Process& p = tree_.processes[i];
            for (size_t c : tree_.children_of(p)) stack.push_back(c);
            std::string when;
            if (p.still_running || !p.end_ns()) {
                when = "still running when the trace ended";
            } else if (*p.end_ns() > *root->end_ns()) {
                when = fmt::format("ended {} after the command",
                                   seconds(*p.end_ns() - *root->end_ns()));
            } else {
                continue;
            }
            lines.push_back(fmt::format("{}: {}; {}", who(i), when, created_where(i)));
        }
        if (lines.empty()) {
            r.summary = fmt::format("every process ended before the command (pid {})", root->pid);
            return r;
        }
        r.verdict = Verdict::kExceeded;
        r.summary = fmt::format("no process was to outlive the command (pid {}) but {} did",
                                root->pid, lines.size());
        add_offenders(r, lines);
        return r;
    }

    const ProcessTree& tree_;
    report::ProcessLabels labels_;
};

}  // namespace

std::vector<BudgetResult> check_budgets(const ProcessTree& tree, const Budgets& budgets) {
    return BudgetChecker(tree).check(budgets);
}

int budget_exit_status(const std::vector<BudgetResult>& results) {
    int status = 0;
    for (const auto& r : results) {
        if (r.failed()) status |= r.exit_bit;
    }
    return status;
}

}  // namespace cowtrace::check

#include "text_report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "byte_size.hpp"
#include "call_sites.hpp"
#include "copy_paths.hpp"
#include "copy_totals.hpp"
#include "memory_timeline.hpp"
#include "process_labels.hpp"
#include "sibling_groups.hpp"
#include "sparkline.hpp"

namespace cowtrace::report {

namespace {

// The median time between an episode's consecutive samples, over every episode: how far apart
// samples usually were, where the largest interval says only how far apart they came at worst.
std::optional<uint64_t> median_sample_gap_ns(const model::ProcessTree& tree) {
    std::vector<uint64_t> gaps;
    for (const auto& e : tree.episodes) {
        auto samples = tree.samples_of(e);
        for (size_t i = 1; i < samples.size(); ++i)
            gaps.push_back(samples[i].t_ns - samples[i - 1].t_ns);
    }
    if (gaps.empty()) return std::nullopt;
    auto middle = gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2);
    std::nth_element(gaps.begin(), middle, gaps.end());
    return *middle;
}

using model::ForkEpisode;
using model::Process;
using model::ProcessTree;

constexpr size_t kSparklineWidth = 32;
constexpr size_t kTopRegions = 3;
constexpr size_t kTopCopyPaths = 3;
constexpr size_t kMaxPidRuns = 8;  // pids (or ranges) listed for a folded group
constexpr size_t kTopCallSites = 5;
constexpr size_t kCallSiteFrames = 4;  // innermost frames shown per call site

std::string seconds(uint64_t ns) {
    return fmt::format("{:.3f}s", static_cast<double>(ns) / 1e9);
}

class TextWriter {
public:
    TextWriter(const ProcessTree& tree, const TextOptions& o, std::ostream& out)
        : tree_(tree),
          labels_(tree),
          o_(o),
          out_(out),
          groups_(tree, labels_, {o.compact, o.show_argv}) {
        for (size_t i = 0; i < tree.episodes.size(); ++i)
            episode_of_[tree.episodes[i].child_index] = i;
    }

    void write() {
        write_header();
        for (size_t r : tree_.roots()) write_node(r, "", true, true);
        write_call_sites();
        write_notes();
    }

private:
    void write_header() {
        std::string cmd = command_text(tree_.command);
        out_ << fmt::format("cowtrace: {} process{} in {}", tree_.processes.size(),
                            tree_.processes.size() == 1 ? "" : "es", seconds(tree_.end_ns));
        if (!cmd.empty()) out_ << " — " << cmd;
        out_ << "\n";
        if (tree_.attached) {
            out_ << fmt::format(
                "attached to pid {}, observed from outside: what ran before the attach, fork "
                "call sites, vfork against fork and failed execs are not known\n",
                tree_.root_pid);
        }
        if (!tree_.episodes.empty()) {
            const ForkEpisode* worst = &tree_.episodes.front();
            size_t short_lived = 0, parent_ended_first = 0;
            for (const auto& e : tree_.episodes) {
                if (e.copied_bytes_peak > worst->copied_bytes_peak) worst = &e;
                if (e.parent_ended_first_ns()) {
                    ++parent_ended_first;
                } else if (e.census == ForkEpisode::Census::kShortLived) {
                    ++short_lived;
                }
            }
            std::vector<std::string> unmeasured;
            if (short_lived) unmeasured.push_back(fmt::format("{} short-lived", short_lived));
            if (parent_ended_first) {
                unmeasured.push_back(
                    fmt::format("{} whose parent exited first", parent_ended_first));
            }
            std::string not_measured =
                unmeasured.empty()
                    ? ""
                    : fmt::format(" ({}, not measured)", fmt::join(unmeasured, " and "));
            out_ << fmt::format(
                "copy-on-write: {} fork episode{}{}, the largest copied {} (pid {})\n",
                tree_.episodes.size(), tree_.episodes.size() == 1 ? "" : "s", not_measured,
                format_bytes(worst->copied_bytes_peak), worst->child);
            CopyTotals copies = copy_totals(tree_);
            if (copies.measured > 1) {
                out_ << fmt::format(
                    "  at most {} copied at once ({}, the forks alive then together); {} in all "
                    "(each fork's peak, summed)\n",
                    format_bytes(copies.peak_concurrent_bytes),
                    seconds(copies.peak_concurrent_t_ns), format_bytes(copies.total_bytes));
            }
        }
        if (has_memory_samples(tree_)) {
            TreePssPoint pss = peak_tree_pss(tree_pss_series(tree_));
            ProcessMemoryPeak rss = peak_rss(tree_);
            out_ << fmt::format(
                "memory: tree PSS peaked at {} ({}); the largest RSS was {} ({}({}))\n",
                format_bytes(pss.pss_bytes), seconds(pss.t_ns), format_bytes(rss.rss_bytes),
                labels_.name(rss.process), tree_.processes[rss.process].pid);
        }
        out_ << "\n";
    }

    std::string flags_text(const Process& p) const {
        std::string out;
        auto add = [&out](const std::string& s) {
            out += out.empty() ? "  [" : ", ";
            out += s;
        };
        for (model::Limitation l : model::limitations_of(tree_, p)) {
            if (l == model::Limitation::kStillRunning) continue;  // ended_text() says it
            if (l == model::Limitation::kRecordsMissing) {
                add(fmt::format("{} {}", p.records_lost(), model::limitation_words(l)));
            } else {
                add(model::limitation_words(l));
            }
        }
        int failed = 0;
        for (const auto& e : tree_.execs_of(p)) failed += e.ok ? 0 : 1;
        if (failed) add(fmt::format("{} failed exec{}", failed, failed > 1 ? "s" : ""));
        return out.empty() ? out : out + "]";
    }

    std::string line_of(const Process& p) const {
        std::string how;
        if (p.pid != tree_.root_pid) how = model::create_how_name(p.how);
        size_t ok_execs = 0;
        for (const auto& e : tree_.execs_of(p)) ok_execs += e.ok ? 1 : 0;
        if (ok_execs > 0 && p.pid != tree_.root_pid)
            how += ok_execs > 1 ? fmt::format("+{} execs", ok_execs) : "+exec";
        std::string life = seconds(p.start_ns) + "–" + (p.end_ns() ? seconds(*p.end_ns()) : "…");
        std::string memory;
        if (!tree_.memory_of(p).empty()) {
            uint64_t rss = 0;
            for (const auto& m : tree_.memory_of(p)) rss = std::max(rss, m.rss_bytes);
            memory = "  peak RSS " + format_bytes(rss);
        }
        return fmt::format("{}({}){}{}  {}  {}{}{}", labels_.name(labels_.index_of(p)), p.pid,
                           o_.show_argv ? argument_text(tree_, p) : "",
                           how.empty() ? "" : "  " + how, life, ended_text(p), memory,
                           flags_text(p));
    }

    const ForkEpisode* episode_of(size_t idx) const {
        auto it = episode_of_.find(idx);
        return it == episode_of_.end() ? nullptr : &tree_.episodes[it->second];
    }

    std::vector<std::string> cow_lines(const ForkEpisode& e) const {
        std::vector<std::string> lines;
        if (e.census == ForkEpisode::Census::kShortLived) {
            lines.push_back("cow: " + short_lived_text(e));
            return lines;
        }
        std::string head =
            fmt::format("cow: {} shared at fork", format_bytes(e.shared_bytes_at_fork));
        if (e.copied_bytes_peak == 0) {
            head += "; nothing copied";
        } else {
            head +=
                fmt::format("; copied peak {} ({}), final {}", format_bytes(e.copied_bytes_peak),
                            format_percent(e.copied_bytes_peak, e.shared_bytes_at_fork),
                            format_bytes(tree_.copied_bytes_final(e)));
            head += e.split_known ? fmt::format(" — by parent {}, by child {}",
                                                format_bytes(tree_.copied_by_parent_bytes(e)),
                                                format_bytes(tree_.copied_by_child_bytes(e)))
                                  : " — parent/child split unknown";
            // Copies made before the child's memory was first read, when that was late.
            uint64_t sided = tree_.copied_by_parent_bytes(e) + tree_.copied_by_child_bytes(e);
            if (e.split_known && tree_.copied_bytes_final(e) > sided)
                head +=
                    fmt::format(", no side {}", format_bytes(tree_.copied_bytes_final(e) - sided));
        }
        if (tree_.retained_bytes_final(e))
            head += fmt::format("; {} kept alive by the child only",
                                format_bytes(tree_.retained_bytes_final(e)));
        if (e.end == ForkEpisode::End::kRunning) head += " (still open at trace end)";
        if (e.final_from_last_sample) head += " (final figures from its last sample)";
        if (e.under_way_at_attach)
            head +=
                " (under way at the attach: \"at fork\" is at the attach, earlier copies have "
                "no side)";
        lines.push_back(head);
        if (e.copied_bytes_peak > 0 && !tree_.samples_of(e).empty()) {
            std::vector<SeriesPoint> points;
            points.push_back({e.t_ns, 0});
            for (const auto& s : tree_.samples_of(e)) points.push_back({s.t_ns, s.copied_bytes});
            uint64_t end =
                e.end_ns() ? *e.end_ns() : std::max(tree_.end_ns, tree_.samples_of(e).back().t_ns);
            size_t estimated = 0;
            uint64_t widest = 0;
            for (const auto& smp : tree_.samples_of(e)) {
                if (smp.exact) continue;
                ++estimated;
                widest = std::max(widest, smp.error_bytes);
            }
            std::string how =
                estimated == 0
                    ? ""
                    : fmt::format("  ({} of {} points estimated, ±{} at most)", estimated,
                                  tree_.samples_of(e).size(), format_bytes(widest));
            lines.push_back(fmt::format("copied │{}│ {}–{}{}",
                                        sparkline(points, e.t_ns, end, kSparklineWidth),
                                        seconds(e.t_ns), seconds(end), how));
        }
        std::vector<const model::CowRegion*> regions;
        for (const auto& r : tree_.regions_of(e)) {
            if (r.copied_bytes_peak > 0) regions.push_back(&r);
        }
        std::stable_sort(regions.begin(), regions.end(), [](const auto* a, const auto* b) {
            return a->copied_bytes_peak > b->copied_bytes_peak;
        });
        if (!regions.empty()) {
            std::string text = "top regions:";
            for (size_t i = 0; i < regions.size() && i < kTopRegions; ++i) {
                text += fmt::format("{} {} {} of {}", i ? "," : "", regions[i]->name.view(),
                                    format_bytes(regions[i]->copied_bytes_peak),
                                    format_bytes(regions[i]->shared_bytes_at_fork));
            }
            if (regions.size() > kTopRegions)
                text += fmt::format(" (+{} more)", regions.size() - kTopRegions);
            lines.push_back(text);
        }
        add_copy_paths(e, lines);
        return lines;
    }

    // "copies by code (sampled page faults, 99% of the copies):" and the top call paths.
    void add_copy_paths(const ForkEpisode& e, std::vector<std::string>& lines) const {
        if (!tree_.attribution_of(e) || e.copied_bytes_peak == 0) return;
        const model::CopyAttributionFigures& a = *tree_.attribution_of(e);
        if (!a.unavailable.empty()) {
            lines.push_back("copies by code: not known (" + a.unavailable + ")");
            return;
        }
        if (e.copy_paths().empty()) {
            lines.push_back(fmt::format(
                "copies by code: no sampled fault fell on a copy (one fault in {} sampled)",
                a.period));
            return;
        }
        std::string coverage;
        if (tree_.copied_bytes_final(e) > 0) {
            double share = 100.0 * static_cast<double>(a.attributed_bytes) /
                           static_cast<double>(tree_.copied_bytes_final(e));
            // Sampled faults are counted to the end, the final figure may be a sample's from
            // before it (or an estimate): a share above 100 % says that, not more copies.
            if (share <= 105.0) {
                coverage = fmt::format(", {:.0f}% of the copies", share);
            } else if (e.final_from_last_sample) {
                coverage = fmt::format(
                    ", {} copied in all: the copies went on after its last "
                    "sample",
                    format_bytes(a.attributed_bytes));
            } else {
                coverage = ", about all of the copies";
            }
        }
        lines.push_back(fmt::format("copies by code (sampled page faults{}):", coverage));
        std::vector<std::string> paths = copy_path_lines(e);
        for (size_t i = 0; i < paths.size() && i < kTopCopyPaths; ++i)
            lines.push_back("  " + paths[i]);
        if (paths.size() > kTopCopyPaths)
            lines.push_back(fmt::format("  (+{} more call paths)", paths.size() - kTopCopyPaths));
    }

    // "short-lived, not measured (exec'd 0.3 ms after the fork; 212 minor faults)".
    // "not measured (its parent exited 0.90 ms after the fork, before the child's memory was
    // read: nothing stayed shared with it; 23842 minor faults)": a daemon's fork.
    std::string short_lived_text(const ForkEpisode& e) const {
        std::string faults = tree_.child_minor_faults(e)
                                 ? fmt::format("; {} minor faults", *tree_.child_minor_faults(e))
                                 : "";
        if (const auto& parent_end = e.parent_ended_first_ns()) {
            std::string when = *parent_end >= e.t_ns
                                   ? " " + duration_text(*parent_end - e.t_ns) + " after the fork,"
                                   : "";
            return fmt::format(
                "not measured (its parent exited{} before the child's memory was read: nothing "
                "stayed shared with it{})",
                when, faults);
        }
        std::string how = e.end == ForkEpisode::End::kExec ? "exec'd" : "exited";
        std::string when =
            e.end_ns() && *e.end_ns() >= e.t_ns
                ? fmt::format(" {} after the fork", duration_text(*e.end_ns() - e.t_ns))
                : "";
        return fmt::format("short-lived, not measured ({}{}{})", how, when, faults);
    }

    static std::string duration_text(uint64_t ns) {
        if (ns < 1'000'000) return fmt::format("{:.2f} ms", static_cast<double>(ns) / 1e6);
        if (ns < 1'000'000'000) return fmt::format("{:.1f} ms", static_cast<double>(ns) / 1e6);
        return fmt::format("{:.2f} s", static_cast<double>(ns) / 1e9);
    }

    // The pids a folded group holds: runs of consecutive pids as ranges, at most a line's worth.
    std::string pid_list(std::span<const uint32_t> kids, size_t from, size_t to) const {
        std::vector<pid_t> pids;
        for (size_t k = from; k < to; ++k) pids.push_back(tree_.processes[kids[k]].pid);
        std::sort(pids.begin(), pids.end());
        std::string out;
        size_t shown = 0;
        for (size_t a = 0; a < pids.size();) {
            size_t b = a;
            while (b + 1 < pids.size() && pids[b + 1] == pids[b] + 1) ++b;
            if (++shown > kMaxPidRuns) {
                out += fmt::format(", … ({} in all)", pids.size());
                break;
            }
            out += (out.empty() ? "" : ", ") + std::to_string(pids[a]);
            if (b > a) out += (b == a + 1 ? ", " : "–") + std::to_string(pids[b]);
            a = b + 1;
        }
        return out;
    }

    std::string folded_cow_line(std::span<const uint32_t> kids, size_t from, size_t to) const {
        size_t measured = 0, short_lived = 0;
        uint64_t max_peak = 0, total_peak = 0, max_shared = 0;
        for (size_t k = from; k < to; ++k) {
            const ForkEpisode* e = episode_of(kids[k]);
            if (!e) continue;
            if (e->census == ForkEpisode::Census::kShortLived) {
                ++short_lived;
                continue;
            }
            ++measured;
            max_peak = std::max(max_peak, e->copied_bytes_peak);
            total_peak += e->copied_bytes_peak;
            max_shared = std::max(max_shared, e->shared_bytes_at_fork);
        }
        std::string line;
        if (measured > 0) {
            line = fmt::format("cow ×{}: up to {} shared at fork; copied peak up to {}, {} in all",
                               measured, format_bytes(max_shared), format_bytes(max_peak),
                               format_bytes(total_peak));
        }
        if (short_lived > 0) {
            line += fmt::format(
                "{}cow ×{}: short-lived, not measured (exec'd or exited before "
                "their memory was read)",
                line.empty() ? "" : "; ", short_lived);
        }
        return line;
    }

    void write_node(size_t idx, const std::string& prefix, bool last, bool top) {
        const Process& p = tree_.processes[idx];
        out_ << prefix << (top ? "" : (last ? "└─" : "├─")) << line_of(p) << "\n";
        std::string child_prefix = prefix + (top ? "" : (last ? "  " : "│ "));
        const auto& kids = tree_.children_of(p);
        if (const ForkEpisode* e = episode_of(idx)) {
            std::string detail = child_prefix + (kids.empty() ? "  " : "│ ") + "    ";
            for (const auto& line : cow_lines(*e)) out_ << detail << line << "\n";
        }
        for (const SiblingRun& run : groups_.runs_of(idx)) {
            size_t i = run.first, j = run.first + run.count;
            bool is_last = j == kids.size();
            if (run.folded()) {
                const Process& first = tree_.processes[kids[i]];
                out_ << child_prefix << (is_last ? "└─" : "├─")
                     << fmt::format("{}*[{}{}]  {}{}  pids {}", j - i, labels_.name(kids[i]),
                                    o_.show_argv ? argument_text(tree_, first) : "",
                                    ended_text(first), flags_text(first), pid_list(kids, i, j))
                     << "\n";
                std::string cow = folded_cow_line(kids, i, j);
                if (!cow.empty())
                    out_ << child_prefix << (is_last ? "  " : "│ ") << "    " << cow << "\n";
            } else {
                write_node(kids[i], child_prefix, is_last, false);
            }
        }
    }

    // Where the forks came from, the costliest first: the code to look at.
    void write_call_sites() {
        std::vector<ForkCallSite> sites = fork_call_sites(tree_, labels_);
        if (sites.empty()) return;
        out_ << "\nfork call sites, by what their children made the tree copy:\n";
        for (size_t i = 0; i < sites.size() && i < kTopCallSites; ++i) {
            const ForkCallSite& site = sites[i];
            std::string frames;
            for (auto f = site.frames.rbegin(); f != site.frames.rend(); ++f) {
                if (f - site.frames.rbegin() == static_cast<long>(kCallSiteFrames)) {
                    frames += " ← …";
                    break;
                }
                frames += (frames.empty() ? "" : " ← ") + *f;
            }
            std::string copied =
                site.parent_ended_first == site.forks
                    ? std::string(site.forks == 1 ? "not measured (its parent exited first)"
                                                  : "not measured (their parent exited first)")
                : site.short_lived == site.forks
                    ? std::string(site.forks == 1 ? "short-lived, not measured"
                                                  : "all short-lived, not measured")
                    : fmt::format(
                          "copied {} (largest {}){}", format_bytes(site.copied_bytes_peak_total),
                          format_bytes(site.copied_bytes_peak_max),
                          site.short_lived
                              ? fmt::format("; {} short-lived, not measured", site.short_lived)
                              : "");
            out_ << fmt::format("  {} {}{} in {}, {}: {}\n", site.forks, site.how,
                                site.forks == 1 ? "" : "s", site.program, copied,
                                frames.empty() ? "call site unknown" : "at " + frames);
        }
        if (sites.size() > kTopCallSites)
            out_ << fmt::format("  (+{} more call sites)\n", sites.size() - kTopCallSites);
    }

    void write_notes() {
        std::vector<std::string> health;
        if (!tree_.complete)
            health.push_back("the trace has no end record: the collector did not finish");
        if (!tree_.reader_error.empty())
            health.push_back("the trace is damaged: " + tree_.reader_error);
        if (!tree_.kernel_events)
            health.push_back("kernel cross-check unavailable: " + tree_.kernel_events_note);
        if (tree_.kernel_events_lost)
            health.push_back(fmt::format("the kernel dropped process events {} times",
                                         tree_.kernel_events_lost));
        if (tree_.dropped_records)
            health.push_back(fmt::format("{} records were never delivered", tree_.dropped_records));
        if (tree_.rejected_records)
            health.push_back(fmt::format("{} records were rejected (malformed or foreign uid)",
                                         tree_.rejected_records));
        if (tree_.sampling_interval_ns > tree_.interval_ns && tree_.interval_ns > 0) {
            // One costly round stretches one tick: say how far apart samples usually were.
            std::optional<uint64_t> usual = median_sample_gap_ns(tree_);
            health.push_back(fmt::format(
                "the sampling interval was stretched at times, from {} ms up to {} ms, to keep "
                "sampling within its share of a core{}: copies that came and went faster may be "
                "missed, and peaks are those of the samples",
                tree_.interval_ns / 1000000, tree_.sampling_interval_ns / 1000000,
                usual ? fmt::format(" (samples were usually {} ms apart)", *usual / 1000000)
                      : std::string()));
        }
        std::set<std::string> approximations;
        for (const auto& e : tree_.episodes)
            for (std::string_view a : e.approximations) approximations.emplace(a);
        for (const auto& a : approximations)
            health.push_back("copy-on-write figures are approximate: " + a);
        for (const auto& n : tree_.notes) {
            if (n.severity >= 2)
                health.push_back(fmt::format("at {}: {}", seconds(n.t_ns), n.text));
        }
        if (health.empty()) return;
        out_ << "\n";
        for (const auto& h : health) out_ << "note: " << h << "\n";
    }

    const ProcessTree& tree_;
    ProcessLabels labels_;
    const TextOptions& o_;
    std::ostream& out_;
    std::unordered_map<size_t, size_t> episode_of_;  // child process index → episode index
    SiblingGroups groups_;                           // which children fold into N*[name]
};

}  // namespace

void write_text(const ProcessTree& tree, const TextOptions& o, std::ostream& out) {
    TextWriter(tree, o, out).write();
}

}  // namespace cowtrace::report

#include "episode_builder.hpp"

#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace cowtrace::model {

CensusMode census_mode_from(std::string_view name) {
    if (name == "exact") return CensusMode::kExact;
    if (name == "unprivileged") return CensusMode::kUnprivileged;
    return CensusMode::kOff;
}

ForkEpisode short_lived(const ForkEpisode& e) {
    ForkEpisode out;
    out.census = ForkEpisode::Census::kShortLived;
    out.parent = e.parent;
    out.child = e.child;
    out.child_index = e.child_index;
    out.t_ns = e.t_ns;
    out.mode = e.mode;
    return out;
}

void EpisodeBuilder::add_short_lived_episodes() {
    ProcessTree& tree = ctx_.tree;
    for (auto& [child, open] : open_) close(open);  // still running when the trace ended
    open_.clear();
    std::vector<bool> has_episode(tree.processes.size(), false);
    for (auto& e : tree.episodes) {
        if (e.child_index >= has_episode.size()) continue;
        has_episode[e.child_index] = true;
    }
    if (tree.census_mode == CensusMode::kOff || !tree.fork_children_measured_from_outside) return;
    mark_parents_ended_first(tree.episodes);  // those of the census; the rest below
    size_t first_added = tree.episodes.size();
    for (size_t i = 0; i < tree.processes.size(); ++i) {
        const Process& p = tree.processes[i];
        // A fork child the library saw start: the collector followed it unless it was gone (or
        // about to exec) before its memory could be read.
        // (A process carried over from an earlier file was forked there: not judged here.)
        if (has_episode[i] || p.carried_over || !p.creation_seen_by_shim || !p.shim_loaded ||
            p.ppid <= 0 || !wire::copies_memory(p.how) || p.pid == tree.root_pid) {
            continue;
        }
        ForkEpisode e;
        e.census = ForkEpisode::Census::kShortLived;
        e.parent = p.ppid;
        e.child = p.pid;
        e.child_index = i;
        e.t_ns = p.start_ns;
        e.mode = tree.census_mode;
        const std::vector<ExecEvent>& execs = ctx_.execs_of(i);
        auto exec =
            std::find_if(execs.begin(), execs.end(), [](const ExecEvent& x) { return x.ok; });
        if (exec != execs.end()) {
            e.end = ForkEpisode::End::kExec;
            e.set_end_ns(exec->t_ns);
        } else if (p.end_ns()) {
            e.end = ForkEpisode::End::kExit;
            e.set_end_ns(p.end_ns());
        }
        tree.episodes.push_back(std::move(e));
    }
    std::span<ForkEpisode> added(tree.episodes.begin() + static_cast<ptrdiff_t>(first_added),
                                 tree.episodes.end());
    mark_parents_ended_first(added);
    std::stable_sort(tree.episodes.begin(), tree.episodes.end(),
                     [](const ForkEpisode& a, const ForkEpisode& b) { return a.t_ns < b.t_ns; });
}

void EpisodeBuilder::mark_parents_ended_first(std::span<ForkEpisode> episodes) {
    // (The tree's children lists are not made yet: the parent is the process with the parent's
    // pid that was alive at the fork.)
    const ProcessTree& tree = ctx_.tree;
    if (processes_by_pid_.empty()) {
        for (size_t i = 0; i < tree.processes.size(); ++i)
            processes_by_pid_.emplace(tree.processes[i].pid, i);
    }
    for (ForkEpisode& e : episodes) {
        if (e.census != ForkEpisode::Census::kShortLived) continue;
        auto [from, to] = processes_by_pid_.equal_range(e.parent);
        for (auto it = from; it != to; ++it) {
            const Process& p = tree.processes[it->second];
            if (p.start_ns > e.t_ns || (p.end_ns() && *p.end_ns() < e.t_ns)) continue;
            if (p.end_ns() && (!e.end_ns() || *p.end_ns() < *e.end_ns()))
                e.rarities().parent_ended_first_ns = p.end_ns();
            break;
        }
    }
}

EpisodeBuilder::OpenEpisode* EpisodeBuilder::open_episode_of(pid_t child) {
    auto it = open_.find(child);
    return it == open_.end() ? nullptr : &it->second;
}

void EpisodeBuilder::close(OpenEpisode& open) {
    ForkEpisode& e = ctx_.tree.episodes[open.index];
    e.samples = ctx_.tree.episode_samples.keep(open.samples);
    e.regions = shared_regions(open.regions);
}

ListRef<CowRegion> EpisodeBuilder::shared_regions(std::span<const CowRegion> regions) {
    if (regions.empty()) return {};
    size_t h = regions.size();
    auto mix = [&h](size_t x) { h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
    for (const CowRegion& r : regions) {
        mix(std::hash<std::string_view>{}(r.name.view()));
        for (uint64_t x : {r.shared_bytes_at_fork, r.copied_bytes_final, r.copied_bytes_peak,
                           r.copied_by_parent_bytes, r.copied_by_child_bytes})
            mix(std::hash<uint64_t>{}(x));
    }
    auto same = [](const CowRegion& a, const CowRegion& b) {
        return a.name == b.name && a.shared_bytes_at_fork == b.shared_bytes_at_fork &&
               a.copied_bytes_final == b.copied_bytes_final &&
               a.copied_bytes_peak == b.copied_bytes_peak &&
               a.copied_by_parent_bytes == b.copied_by_parent_bytes &&
               a.copied_by_child_bytes == b.copied_by_child_bytes;
    };
    auto [from, to] = regions_by_hash_.equal_range(h);
    for (auto it = from; it != to; ++it) {
        std::span<const CowRegion> kept = ctx_.tree.episode_regions.list(it->second);
        if (std::equal(regions.begin(), regions.end(), kept.begin(), kept.end(), same))
            return it->second;
    }
    ListRef<CowRegion> kept = ctx_.tree.episode_regions.keep(regions);
    regions_by_hash_.emplace(h, kept);
    return kept;
}

ListRef<CopyAttributionFigures> EpisodeBuilder::shared_attribution(CopyAttributionFigures a) {
    AttributionKey key{a.unavailable,      a.period,         a.samples,      a.copy_samples,
                       a.new_page_samples, a.repeat_samples, a.lost_samples, a.attributed_bytes};
    auto [it, added] = attributions_.try_emplace(std::move(key));
    if (added)
        it->second =
            ctx_.tree.episode_attributions.keep(std::span<const CopyAttributionFigures>(&a, 1));
    return it->second;
}

void EpisodeBuilder::on_start(const wire::RecordHeader& h, const wire::EpisodeStart& start,
                              uint64_t t) {
    ForkEpisode e;
    e.child = h.pid;
    e.parent = start.parent;
    e.t_ns = ctx_.rel(start.fork_t_ns != 0 ? start.fork_t_ns : h.t_ns);
    e.mode = census_mode_from(start.mode.view());
    e.split_known = start.split_known;
    e.shared_bytes_at_fork = start.shared_bytes;
    if (start.zero_page_bytes != 0 || start.thp_bytes != 0 || start.ksm_bytes != 0) {
        ForkEpisode::Rarities& rare = e.rarities();
        rare.zero_page_bytes_at_fork = start.zero_page_bytes;
        rare.thp_bytes_at_fork = start.thp_bytes;
        rare.ksm_bytes_at_fork = start.ksm_bytes;
    }
    e.under_way_at_attach = start.under_way_at_attach;
    e.approximations = ctx_.command_lines.intern(start.approximations);
    if (start.baseline_t_ns != 0) {
        uint64_t fork_ns = start.fork_t_ns != 0 ? start.fork_t_ns : h.t_ns;
        e.set_baseline_delay_ns(start.baseline_t_ns > fork_ns ? start.baseline_t_ns - fork_ns : 0);
    }
    Process& c = ctx_.index.at(h.pid, t, false);
    e.child_index = ctx_.index.index_of(c);
    if (e.t_ns < c.start_ns) c.start_ns = e.t_ns;
    // A second start for a child still open (a damaged trace): the first is never ended.
    if (OpenEpisode* earlier = open_episode_of(h.pid)) close(*earlier);
    open_[h.pid] = OpenEpisode{ctx_.tree.episodes.size(), {}, {}};
    ctx_.tree.episodes.push_back(std::move(e));
}

void EpisodeBuilder::on_sample(const wire::RecordHeader& h, const wire::EpisodeSample& sample,
                               uint64_t t) {
    OpenEpisode* open = open_episode_of(h.pid);
    if (open == nullptr) return;
    ForkEpisode* e = &ctx_.tree.episodes[open->index];
    CowSample s;
    s.t_ns = t;
    s.shared_bytes = sample.shared_bytes;
    s.copied_bytes = sample.copied_bytes;
    s.copied_by_parent_bytes = sample.copied_by_parent_bytes;
    s.copied_by_child_bytes = sample.copied_by_child_bytes;
    s.retained_bytes = sample.retained_bytes;
    s.child_new_bytes = sample.child_new_bytes;
    s.exact = !sample.estimated;
    s.error_bytes = sample.copied_error_bytes;
    e->census_cost_ns += sample.census_cost_ns;
    // The peak is the largest counted figure: an estimate's noise must not set it (an episode
    // with only estimates takes theirs).
    bool any_exact = std::any_of(open->samples.begin(), open->samples.end(),
                                 [](const CowSample& x) { return x.exact; });
    if (s.exact && !any_exact) e->copied_bytes_peak = 0;
    if (s.exact || !any_exact)
        e->copied_bytes_peak = std::max(e->copied_bytes_peak, s.copied_bytes);
    open->samples.push_back(s);  // its figures are the episode's final ones until the next
}

void EpisodeBuilder::on_regions(const wire::RecordHeader& h, const wire::EpisodeRegions& record) {
    OpenEpisode* open = open_episode_of(h.pid);
    if (open == nullptr) return;
    std::vector<CowRegion>& regions = open->regions;
    record.regions.for_each([&](const wire::RegionFigures& r) {
        std::string_view name = r.name.view();
        auto it = std::find_if(regions.begin(), regions.end(),
                               [&](const CowRegion& x) { return x.name.view() == name; });
        if (it == regions.end()) {
            regions.push_back(CowRegion{InternedText::interned(name, ctx_.command_lines),
                                        r.shared_bytes_at_fork, 0, 0, 0, 0});
            it = regions.end() - 1;
        }
        it->shared_bytes_at_fork = r.shared_bytes_at_fork;
        it->copied_bytes_final = r.copied_bytes;
        it->copied_bytes_peak = std::max(it->copied_bytes_peak, r.copied_bytes);
        it->copied_by_parent_bytes = r.copied_by_parent_bytes;
        it->copied_by_child_bytes = r.copied_by_child_bytes;
    });
}

void EpisodeBuilder::on_end(const wire::RecordHeader& h, const wire::EpisodeEnd& end, uint64_t t) {
    OpenEpisode* open = open_episode_of(h.pid);
    if (open == nullptr) return;
    ForkEpisode* e = &ctx_.tree.episodes[open->index];
    std::vector<CowSample>& samples = open->samples;
    switch (end.reason) {
        case wire::EpisodeEndReason::kExit:
            e->end = ForkEpisode::End::kExit;
            break;
        case wire::EpisodeEndReason::kExec:
            e->end = ForkEpisode::End::kExec;
            break;
        case wire::EpisodeEndReason::kShortLived:
            // Read after the child began to exec: nothing it says can be trusted.
            *e = short_lived(*e);
            samples.clear();
            open->regions.clear();
            e->end = ForkEpisode::End::kExec;
            e->set_end_ns(t);
            break;
        default:
            e->end = ForkEpisode::End::kRunning;
            break;
    }
    e->final_from_last_sample = end.final_from_last_sample;
    // No census at the end (a child observed from outside ends unannounced): when the last
    // sample is an estimate above every counted one, it is the best figure there is for the
    // peak too, said to be one (a peak below the final figure would read as a contradiction).
    if (!samples.empty() && !samples.back().exact &&
        samples.back().copied_bytes > e->copied_bytes_peak &&
        e->end != ForkEpisode::End::kRunning) {
        e->copied_bytes_peak = samples.back().copied_bytes;
        std::vector<std::string> approximations = e->approximations.words();
        approximations.push_back(
            "an episode that ended between exact censuses has its last sample's estimate as its "
            "peak (within the bound that sample states)");
        e->approximations = ctx_.command_lines.intern(approximations);
    }
    // Ended before its first sample: only its fork-time memory was read, nothing of what it
    // copied.
    if (samples.empty() && e->end != ForkEpisode::End::kRunning) {
        e->census = ForkEpisode::Census::kShortLived;
    }
    if (e->end != ForkEpisode::End::kRunning) e->set_end_ns(t);
    close(*open);
    open_.erase(h.pid);
}

ForkEpisode* EpisodeBuilder::episode_forked_at(pid_t child, uint64_t fork_t_ns) {
    uint64_t t = ctx_.rel(fork_t_ns);
    for (auto it = ctx_.tree.episodes.rbegin(); it != ctx_.tree.episodes.rend(); ++it) {
        if (it->child == child && it->t_ns == t) return &*it;
    }
    return nullptr;
}

void EpisodeBuilder::on_copy_path(const wire::RecordHeader& h, const wire::CopyPath& path) {
    ForkEpisode* e = episode_forked_at(h.pid, path.fork_t_ns);
    if (e == nullptr) return;
    CopyPath p;
    path.frames.for_each([&](std::string_view f) { p.frames.emplace_back(f); });
    p.side = path.side;
    p.copied_bytes = path.copied_bytes;
    p.samples = path.samples;
    // Largest first, whatever order they came in.
    std::vector<CopyPath>& paths = e->rarities().copy_paths;
    auto at = std::find_if(paths.begin(), paths.end(),
                           [&](const CopyPath& q) { return q.copied_bytes < p.copied_bytes; });
    paths.insert(at, std::move(p));
}

void EpisodeBuilder::on_copy_attribution(const wire::RecordHeader& h,
                                         const wire::CopyAttribution& record) {
    ForkEpisode* e = episode_forked_at(h.pid, record.fork_t_ns);
    if (e == nullptr) return;
    CopyAttributionFigures a;
    a.unavailable = record.unavailable.view();
    a.period = record.period;
    a.samples = record.samples;
    a.copy_samples = record.copy_samples;
    a.new_page_samples = record.new_page_samples;
    a.repeat_samples = record.repeat_samples;
    a.lost_samples = record.lost_samples;
    a.attributed_bytes = record.attributed_bytes;
    e->set_attribution(shared_attribution(std::move(a)));
}

}  // namespace cowtrace::model

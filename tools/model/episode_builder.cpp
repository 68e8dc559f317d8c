#include "episode_builder.hpp"

#include <algorithm>

namespace cowtrace::model {

CensusMode census_mode_from(std::string_view name) {
    if (name == "exact") return CensusMode::kExact;
    if (name == "unprivileged") return CensusMode::kUnprivileged;
    return CensusMode::kOff;
}

ForkEpisode* EpisodeBuilder::open_episode_of(pid_t child) {
    auto it = open_.find(child);
    return it == open_.end() ? nullptr : &ctx_.tree.episodes[it->second];
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
    e.zero_page_bytes_at_fork = start.zero_page_bytes;
    e.thp_bytes_at_fork = start.thp_bytes;
    e.ksm_bytes_at_fork = start.ksm_bytes;
    start.approximations.for_each([&](std::string_view a) { e.approximations.emplace_back(a); });
    Process& c = ctx_.index.at(h.pid, t, false);
    e.child_index = ctx_.index.index_of(c);
    if (e.t_ns < c.start_ns) c.start_ns = e.t_ns;
    open_[h.pid] = ctx_.tree.episodes.size();
    ctx_.tree.episodes.push_back(std::move(e));
}

void EpisodeBuilder::on_sample(const wire::RecordHeader& h, const wire::EpisodeSample& sample,
                               uint64_t t) {
    ForkEpisode* e = open_episode_of(h.pid);
    if (e == nullptr) return;
    CowSample s;
    s.t_ns = t;
    s.shared_bytes = sample.shared_bytes;
    s.copied_bytes = sample.copied_bytes;
    s.copied_by_parent_bytes = sample.copied_by_parent_bytes;
    s.copied_by_child_bytes = sample.copied_by_child_bytes;
    s.retained_bytes = sample.retained_bytes;
    s.child_new_bytes = sample.child_new_bytes;
    e->census_cost_ns += sample.census_cost_ns;
    e->copied_bytes_peak = std::max(e->copied_bytes_peak, s.copied_bytes);
    e->copied_bytes_final = s.copied_bytes;
    e->copied_by_parent_bytes = s.copied_by_parent_bytes;
    e->copied_by_child_bytes = s.copied_by_child_bytes;
    e->retained_bytes_final = s.retained_bytes;
    e->child_new_bytes_final = s.child_new_bytes;
    e->samples.push_back(s);
}

void EpisodeBuilder::on_regions(const wire::RecordHeader& h, const wire::EpisodeRegions& record) {
    ForkEpisode* e = open_episode_of(h.pid);
    if (e == nullptr) return;
    record.regions.for_each([&](const wire::RegionFigures& r) {
        std::string_view name = r.name.view();
        auto it = std::find_if(e->regions.begin(), e->regions.end(),
                               [&](const CowRegion& x) { return x.name == name; });
        if (it == e->regions.end()) {
            e->regions.push_back(CowRegion{std::string(name), r.shared_bytes_at_fork, 0, 0, 0, 0});
            it = e->regions.end() - 1;
        }
        it->shared_bytes_at_fork = r.shared_bytes_at_fork;
        it->copied_bytes_final = r.copied_bytes;
        it->copied_bytes_peak = std::max(it->copied_bytes_peak, r.copied_bytes);
        it->copied_by_parent_bytes = r.copied_by_parent_bytes;
        it->copied_by_child_bytes = r.copied_by_child_bytes;
    });
}

void EpisodeBuilder::on_end(const wire::RecordHeader& h, const wire::EpisodeEnd& end, uint64_t t) {
    ForkEpisode* e = open_episode_of(h.pid);
    if (e == nullptr) return;
    switch (end.reason) {
        case wire::EpisodeEndReason::kExit: e->end = ForkEpisode::End::kExit; break;
        case wire::EpisodeEndReason::kExec: e->end = ForkEpisode::End::kExec; break;
        default: e->end = ForkEpisode::End::kRunning; break;
    }
    if (e->end != ForkEpisode::End::kRunning) e->end_ns = t;
    open_.erase(h.pid);
}

}  // namespace cowtrace::model

#include "memory_timeline.hpp"

#include <algorithm>
#include <cstdint>

#include "model/tree_pss_ledger.hpp"

namespace cowtrace::report {

bool has_memory_samples(const model::ProcessTree& tree) {
    return std::any_of(tree.processes.begin(), tree.processes.end(),
                       [&tree](const model::Process& p) { return !tree.memory_of(p).empty(); });
}

ProcessMemoryPeak peak_rss(const model::ProcessTree& tree) {
    ProcessMemoryPeak peak;
    for (size_t i = 0; i < tree.processes.size(); ++i) {
        for (const auto& m : tree.memory_of(tree.processes[i])) {
            if (m.rss_bytes > peak.rss_bytes) peak = {m.rss_bytes, m.t_ns, i};
        }
    }
    return peak;
}

namespace {

// One change to the tree's PSS, in time order; at one instant: passes at forks and at the ends
// of their sharing first, then samples, then ends (model/tree_pss_ledger.hpp).
struct PssChange {
    uint64_t t_ns;
    enum class Kind { kFork, kSharingEnded, kSample, kEnd } kind;
    size_t process;      // kFork: the parent; kSharingEnded: the child
    size_t other = 0;    // kFork: the child; kSharingEnded: the parent
    uint64_t bytes = 0;  // kSample: the PSS; kFork, kSharingEnded: the bytes shared
};

void add_episode_changes(const model::ProcessTree& tree, const std::vector<size_t>& parent_of,
                         std::vector<PssChange>& changes) {
    for (const auto& e : tree.episodes) {
        if (e.census != model::ForkEpisode::Census::kMeasured || e.shared_bytes_at_fork == 0)
            continue;
        if (e.child_index >= parent_of.size() || parent_of[e.child_index] == SIZE_MAX) continue;
        size_t parent = parent_of[e.child_index];
        changes.push_back(
            {e.t_ns, PssChange::Kind::kFork, parent, e.child_index, e.shared_bytes_at_fork});
        if (!e.end_ns()) continue;
        uint64_t still_shared = tree.samples_of(e).empty()
                                    ? e.shared_bytes_at_fork - tree.copied_bytes_final(e)
                                    : tree.samples_of(e).back().shared_bytes;
        // An episode ended by exit ends at the child's final census, but the child lives on a
        // little and is sampled with its half of the shared pages still counted: the sharing
        // ends with the process (its end in the replay), not with the census.
        uint64_t ended = *e.end_ns();
        const model::Process& child = tree.processes[e.child_index];
        if (e.end == model::ForkEpisode::End::kExit && child.end_ns() && !child.still_running) {
            ended = std::max(ended, *child.end_ns());
            if (!tree.memory_of(child).empty())
                ended = std::max(ended, tree.memory_of(child).back().t_ns);
        }
        changes.push_back(
            {ended, PssChange::Kind::kSharingEnded, e.child_index, parent, still_shared});
    }
}

// Replays the samples, forks and ends in time order up to until_ns; after each instant calls
// at_instant(t, ledger). Returns the ledger as it stands then.
template <typename AtInstant>
model::TreePssLedger replay_tree_pss(const model::ProcessTree& tree, uint64_t until_ns,
                                     AtInstant at_instant) {
    std::vector<PssChange> changes;
    std::vector<size_t> parent_of(tree.processes.size(), SIZE_MAX);
    for (size_t i = 0; i < tree.processes.size(); ++i) {
        const model::Process& p = tree.processes[i];
        for (size_t c : tree.children_of(p)) {
            if (c < parent_of.size()) parent_of[c] = i;
        }
        for (const auto& m : tree.memory_of(p))
            changes.push_back({m.t_ns, PssChange::Kind::kSample, i, 0, m.pss_bytes});
        // A sample can arrive after the recorded end (the census raced the exit): the end wins.
        // A process never sampled ends too: a fork may have passed it a share.
        if (p.end_ns() && !p.still_running) {
            uint64_t end = tree.memory_of(p).empty()
                               ? *p.end_ns()
                               : std::max(*p.end_ns(), tree.memory_of(p).back().t_ns);
            changes.push_back({end, PssChange::Kind::kEnd, i});
        }
    }
    add_episode_changes(tree, parent_of, changes);
    std::stable_sort(changes.begin(), changes.end(), [](const PssChange& a, const PssChange& b) {
        return a.t_ns != b.t_ns ? a.t_ns < b.t_ns : a.kind < b.kind;
    });
    model::TreePssLedger ledger;
    for (size_t i = 0; i < changes.size() && changes[i].t_ns <= until_ns; ++i) {
        const PssChange& c = changes[i];
        switch (c.kind) {
            case PssChange::Kind::kFork:
                ledger.forked(c.process, c.other, c.bytes);
                break;
            case PssChange::Kind::kSharingEnded:
                ledger.sharing_ended(c.process, c.other, c.bytes);
                break;
            case PssChange::Kind::kSample:
                ledger.sampled(c.process, c.bytes);
                break;
            case PssChange::Kind::kEnd:
                ledger.ended(c.process);
                break;
        }
        // One point per instant: changes at the same time are one state.
        if (i + 1 < changes.size() && changes[i + 1].t_ns == c.t_ns) continue;
        at_instant(c.t_ns, ledger);
    }
    return ledger;
}

}  // namespace

std::vector<TreePssPoint> tree_pss_series(const model::ProcessTree& tree) {
    std::vector<TreePssPoint> series;
    replay_tree_pss(tree, UINT64_MAX, [&](uint64_t t, const model::TreePssLedger& ledger) {
        series.push_back({t, ledger.total_bytes()});
    });
    return series;
}

std::vector<ProcessPssShare> tree_pss_shares_at(const model::ProcessTree& tree, uint64_t t_ns) {
    std::vector<ProcessPssShare> shares;
    model::TreePssLedger ledger =
        replay_tree_pss(tree, t_ns, [](uint64_t, const model::TreePssLedger&) {});
    ledger.for_each_share([&](uint64_t process, uint64_t pss) {
        shares.push_back({static_cast<size_t>(process), pss});
    });
    std::sort(shares.begin(), shares.end(), [](const auto& a, const auto& b) {
        return a.pss_bytes != b.pss_bytes ? a.pss_bytes > b.pss_bytes : a.process < b.process;
    });
    return shares;
}

TreePssPoint peak_tree_pss(const std::vector<TreePssPoint>& series) {
    TreePssPoint peak;
    for (const auto& p : series) {
        if (p.pss_bytes > peak.pss_bytes) peak = p;
    }
    return peak;
}

}  // namespace cowtrace::report

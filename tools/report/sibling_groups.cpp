#include "sibling_groups.hpp"

#include <algorithm>
#include <bit>
#include <string>

namespace cowtrace::report {

namespace {

using model::ForkEpisode;
using model::Process;

// Forks fold only with forks that copied about as much (the same power of two): an outlier must
// stay visible. Copies under a mebibyte, and short-lived children (not measured), fold together.
constexpr uint64_t kFoldableCopyBytes = 1 << 20;

// The limits a process hit, as one key: processes that differ in any must not fold.
std::string limits_key(const model::ProcessTree& tree, const Process& p) {
    std::string key;
    for (model::Limitation l : model::limitations_of(tree, p)) {
        if (l == model::Limitation::kStillRunning) continue;  // in ended_text()
        key += std::to_string(static_cast<int>(l));
        if (l == model::Limitation::kRecordsMissing) key += "x" + std::to_string(p.records_lost());
        key += ",";
    }
    int failed = 0;
    for (const auto& e : tree.execs_of(p)) failed += e.ok ? 0 : 1;
    return key + "f" + std::to_string(failed);
}

}  // namespace

SiblingGroups::SiblingGroups(const model::ProcessTree& tree, const ProcessLabels& labels,
                             SiblingFolding folding)
    : tree_(tree), labels_(labels), folding_(folding), episode_of_(tree.processes.size()) {
    for (size_t i = 0; i < tree.episodes.size(); ++i) {
        size_t child = tree.episodes[i].child_index;
        if (child < episode_of_.size()) episode_of_[child] = i;
    }
}

const ForkEpisode* SiblingGroups::episode_of(size_t index) const {
    if (index >= episode_of_.size() || !episode_of_[index]) return nullptr;
    return &tree_.episodes[*episode_of_[index]];
}

std::string SiblingGroups::fold_key(size_t index) const {
    const Process& p = tree_.processes[index];
    if (!tree_.children_of(p).empty()) return {};
    const ForkEpisode* e = episode_of(index);
    bool small = !e || e->census == ForkEpisode::Census::kShortLived ||
                 e->copied_bytes_peak < kFoldableCopyBytes;
    std::string cow = !e      ? "-"
                      : small ? "small"
                              : std::to_string(std::bit_width(e->copied_bytes_peak));
    return labels_.name(index) + (folding_.by_arguments ? argument_text(tree_, p) : "") + "|" +
           ended_text(p) + "|" + limits_key(tree_, p) + "|" + cow;
}

std::vector<SiblingRun> SiblingGroups::runs_of(size_t parent) const {
    std::span<const uint32_t> kids = tree_.children_of(tree_.processes[parent]);
    std::vector<SiblingRun> runs;
    std::vector<std::string> keys;
    if (folding_.fold) {
        keys.reserve(kids.size());
        for (size_t k : kids) keys.push_back(fold_key(k));
    }
    for (size_t i = 0; i < kids.size();) {
        size_t j = i + 1;
        if (folding_.fold && !keys[i].empty()) {
            while (j < kids.size() && keys[j] == keys[i]) ++j;
        }
        if (j - i >= kMinSiblingsToFold) {
            runs.push_back({i, j - i});
        } else {
            for (size_t k = i; k < j; ++k) runs.push_back({k, 1});
        }
        i = j;
    }
    return runs;
}

FigureSpread spread_of(std::vector<uint64_t> values) {
    FigureSpread s;
    s.count = values.size();
    if (values.empty()) return s;
    auto middle = values.begin() + static_cast<long>((values.size() - 1) / 2);
    std::nth_element(values.begin(), middle, values.end());
    s.median = *middle;
    auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    s.min = *lo;
    s.max = *hi;
    for (uint64_t v : values) s.total += v;
    return s;
}

SiblingGroupFigures group_figures(const model::ProcessTree& tree, const SiblingGroups& groups,
                                  size_t parent, SiblingRun run) {
    SiblingGroupFigures f;
    std::vector<uint64_t> life, shared, copied, rss, pss;
    std::span<const uint32_t> kids = tree.children_of(tree.processes[parent]);
    for (size_t k = run.first; k < run.first + run.count && k < kids.size(); ++k) {
        const Process& p = tree.processes[kids[k]];
        f.pids.push_back(p.pid);
        if (p.end_ns() && *p.end_ns() >= p.start_ns) life.push_back(*p.end_ns() - p.start_ns);
        if (const ForkEpisode* e = groups.episode_of(kids[k])) {
            if (e->census == ForkEpisode::Census::kShortLived) {
                ++f.short_lived;
            } else {
                shared.push_back(e->shared_bytes_at_fork);
                copied.push_back(e->copied_bytes_peak);
            }
        }
        if (!tree.memory_of(p).empty()) {
            uint64_t r = 0, s = 0;
            for (const auto& m : tree.memory_of(p)) {
                r = std::max(r, m.rss_bytes);
                s = std::max(s, m.pss_bytes);
            }
            rss.push_back(r);
            pss.push_back(s);
        }
    }
    std::sort(f.pids.begin(), f.pids.end());
    f.lifetime_ns = spread_of(std::move(life));
    f.shared_bytes = spread_of(std::move(shared));
    f.copied_bytes_peak = spread_of(std::move(copied));
    f.peak_rss_bytes = spread_of(std::move(rss));
    f.peak_pss_bytes = spread_of(std::move(pss));
    return f;
}

}  // namespace cowtrace::report

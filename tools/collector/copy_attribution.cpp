#include "copy_attribution.hpp"

#include <algorithm>
#include <unordered_set>

namespace cowtrace::collector {
namespace {
constexpr uint64_t kPageMask = ~uint64_t{4095};
}

void CopyAttribution::set_fork_pages(std::vector<std::pair<uint64_t, uint64_t>> runs) {
    runs_ = std::move(runs);
    pages_known_ = true;
}

void CopyAttribution::add(pid_t pid, uint64_t t_ns, uint64_t address, uint64_t weight,
                          uint32_t path) {
    if (pid != parent_ && pid != child_) return;
    // The parent's events may have been opened for an earlier episode.
    if (t_ns < fork_t_ns_) return;
    samples_.push_back({t_ns, address & kPageMask, weight, path,
                        pid == parent_ ? FaultSide::kParent : FaultSide::kChild});
}

bool CopyAttribution::shareable_at_fork(uint64_t page) const {
    auto it = std::upper_bound(runs_.begin(), runs_.end(), page,
                               [](uint64_t p, const auto& run) { return p < run.first; });
    if (it == runs_.begin()) return false;
    --it;
    return page < it->second;
}

CopyAttribution::Result CopyAttribution::classify() const {
    Result result;
    std::vector<Sample> in_order = samples_;
    // Per-CPU rings are not ordered among themselves.
    std::stable_sort(in_order.begin(), in_order.end(),
                     [](const Sample& a, const Sample& b) { return a.t_ns < b.t_ns; });
    std::unordered_set<uint64_t> faulted;
    std::map<std::pair<uint32_t, FaultSide>, PathFigures> by_path;
    for (const Sample& s : in_order) {
        ++result.samples;
        if (!shareable_at_fork(s.page)) {
            ++result.new_page_samples;
            continue;
        }
        if (!faulted.insert(s.page).second) {
            ++result.repeat_samples;
            continue;
        }
        PathFigures& f = by_path[{s.path, s.side}];
        f.path = s.path;
        f.side = s.side;
        ++f.samples;
        f.faults += s.weight;
        ++result.copy_samples;
        result.copy_faults += s.weight;
    }
    for (auto& [key, f] : by_path) result.copies.push_back(f);
    std::sort(result.copies.begin(), result.copies.end(), [](const auto& a, const auto& b) {
        return a.faults != b.faults ? a.faults > b.faults : a.path < b.path;
    });
    return result;
}

}  // namespace cowtrace::collector

#include "step_series.hpp"

#include <algorithm>

namespace cowtrace::report {

void StepSum::add(const std::vector<StepPoint>& steps) {
    uint64_t level = 0;
    for (const StepPoint& p : steps) {
        changes_.push_back({p.t_ns, static_cast<int64_t>(p.value) - static_cast<int64_t>(level)});
        level = p.value;
    }
}

std::vector<StepPoint> StepSum::points() const {
    std::vector<Change> changes = changes_;
    std::stable_sort(changes.begin(), changes.end(),
                     [](const Change& a, const Change& b) { return a.t_ns < b.t_ns; });
    std::vector<StepPoint> out;
    int64_t level = 0;
    for (size_t i = 0; i < changes.size();) {
        uint64_t t = changes[i].t_ns;
        for (; i < changes.size() && changes[i].t_ns == t; ++i) level += changes[i].delta;
        uint64_t value = level > 0 ? static_cast<uint64_t>(level) : 0;
        if (out.empty() || out.back().value != value) out.push_back({t, value});
    }
    return out;
}

std::vector<StepPoint> thinned(const std::vector<StepPoint>& steps, size_t buckets) {
    if (buckets == 0 || steps.size() <= 2 * buckets) return steps;
    uint64_t t0 = steps.front().t_ns, span = steps.back().t_ns - t0 + 1;
    std::vector<StepPoint> out;
    for (size_t i = 0; i < steps.size();) {
        size_t bucket = static_cast<size_t>(static_cast<unsigned __int128>(steps[i].t_ns - t0) *
                                            buckets / span);
        size_t peak = i, j = i;
        for (; j < steps.size(); ++j) {
            size_t b = static_cast<size_t>(static_cast<unsigned __int128>(steps[j].t_ns - t0) *
                                           buckets / span);
            if (b != bucket) break;
            if (steps[j].value > steps[peak].value) peak = j;
        }
        out.push_back(steps[peak]);
        if (j - 1 != peak) out.push_back(steps[j - 1]);
        i = j;
    }
    return out;
}

}  // namespace cowtrace::report

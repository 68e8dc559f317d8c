#include "copy_totals.hpp"

#include <algorithm>
#include <vector>

namespace cowtrace::report {

namespace {

struct Change {
    uint64_t t_ns;
    int64_t delta;
};

}  // namespace

CopyTotals copy_totals(const model::ProcessTree& tree) {
    CopyTotals out;
    std::vector<Change> changes;
    for (const model::ForkEpisode& e : tree.episodes) {
        if (e.census != model::ForkEpisode::Census::kMeasured) continue;
        ++out.measured;
        out.total_bytes += e.copied_bytes_peak;
        int64_t held = 0;
        uint64_t last_t = 0;
        for (const model::CowSample& s : tree.samples_of(e)) {
            if (!s.exact) continue;  // as the episode's own peak: counted figures only
            auto now = static_cast<int64_t>(s.copied_bytes);
            if (now != held) changes.push_back({s.t_ns, now - held});
            held = now;
            last_t = s.t_ns;
        }
        // Its copies are gone with the episode: the child's with the child, the parent's are
        // then its only copy. (Just after its final census, which is often at its very end.)
        // An episode still running when the trace ended holds them to the end.
        if (held != 0 && e.end_ns()) changes.push_back({std::max(*e.end_ns(), last_t) + 1, -held});
    }
    // At one instant, ends before starts: an episode that ends as another is sampled did not
    // hold its copies at the same time as the other's.
    std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
        return a.t_ns != b.t_ns ? a.t_ns < b.t_ns : a.delta < b.delta;
    });
    int64_t now = 0;
    for (const Change& c : changes) {
        now += c.delta;
        if (now > static_cast<int64_t>(out.peak_concurrent_bytes)) {
            out.peak_concurrent_bytes = static_cast<uint64_t>(now);
            out.peak_concurrent_t_ns = c.t_ns;
        }
    }
    return out;
}

uint64_t copied_held_at(const model::ProcessTree& tree, const model::ForkEpisode& e,
                        uint64_t t_ns) {
    if (e.census != model::ForkEpisode::Census::kMeasured) return 0;
    uint64_t held = 0, last_t = 0;
    for (const model::CowSample& s : tree.samples_of(e)) {
        if (!s.exact) continue;
        if (s.t_ns > t_ns) break;
        held = s.copied_bytes;
        last_t = s.t_ns;
    }
    if (e.end_ns() && t_ns > std::max(*e.end_ns(), last_t)) return 0;
    return held;
}

}  // namespace cowtrace::report

// Step functions of trace time (a value holds from its point until the next): many summed into
// one, and one thinned to what a chart can draw without losing its peak. Ten thousand forks are
// one "other forks" line on the HTML page and one counter track per folded group in Perfetto.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cowtrace::report {

struct StepPoint {
    uint64_t t_ns = 0;
    uint64_t value = 0;
};

// Adds step functions up. Each one is 0 before its first point and after its last (give a last
// point of 0 where it ends); the sum has a point wherever any of them changes.
class StepSum {
public:
    void add(const std::vector<StepPoint>& steps);
    std::vector<StepPoint> points() const;

private:
    struct Change {
        uint64_t t_ns;
        int64_t delta;
    };
    std::vector<Change> changes_;
};

// At most about 2 × buckets points of the same step function: in each of `buckets` equal spans
// of time, the first point with the span's highest value and the span's last point. The peak,
// and the value after each span, stay exact.
std::vector<StepPoint> thinned(const std::vector<StepPoint>& steps, size_t buckets);

}  // namespace cowtrace::report

// A one-line chart of a series for terminals: " ▁▂▃▄▅▆▇█", one character per time slice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cowtrace::report {

struct SeriesPoint {
    uint64_t t_ns = 0;
    uint64_t value = 0;
};

// The series is a step function (each value holds until the next point); each of `width`
// slices of [t_begin, t_end] shows the highest value it held, scaled to the series' peak.
// Zero is a blank, any non-zero value at least "▁". Points must be in time order.
std::string sparkline(const std::vector<SeriesPoint>& points, uint64_t t_begin, uint64_t t_end,
                      size_t width);

}  // namespace cowtrace::report

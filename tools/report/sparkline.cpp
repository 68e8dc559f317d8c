#include "sparkline.hpp"

#include <algorithm>

namespace cowtrace::report {

namespace {
const char* const kLevels[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
constexpr size_t kTopLevel = std::size(kLevels) - 1;
}  // namespace

std::string sparkline(const std::vector<SeriesPoint>& points, uint64_t t_begin, uint64_t t_end,
                      size_t width) {
    if (width == 0) return {};
    if (t_end <= t_begin) t_end = t_begin + 1;
    uint64_t peak = 0;
    for (const auto& p : points) peak = std::max(peak, p.value);
    std::vector<uint64_t> slice_max(width, 0);
    uint64_t held = 0;  // the value carried in from before the slice
    size_t next = 0;
    const double span = static_cast<double>(t_end - t_begin);
    for (size_t s = 0; s < width; ++s) {
        double slice_end = static_cast<double>(t_begin) +
                           span * static_cast<double>(s + 1) / static_cast<double>(width);
        bool last = s + 1 == width;  // the last slice takes what is left
        uint64_t high = held;
        while (next < points.size() &&
               (last || static_cast<double>(points[next].t_ns) < slice_end)) {
            held = points[next].value;
            high = std::max(high, held);
            ++next;
        }
        slice_max[s] = high;
    }
    std::string out;
    for (uint64_t v : slice_max) {
        size_t level = 0;
        if (v > 0 && peak > 0) {
            // Ceil, so that a small non-zero value still shows.
            level = static_cast<size_t>((static_cast<unsigned __int128>(v) * kTopLevel + peak - 1) /
                                        peak);
            level = std::clamp<size_t>(level, 1, kTopLevel);
        }
        out += kLevels[level];
    }
    return out;
}

}  // namespace cowtrace::report

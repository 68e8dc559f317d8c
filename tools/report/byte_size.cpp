#include "byte_size.hpp"

#include <fmt/format.h>

namespace cowtrace::report {

std::string format_bytes(uint64_t bytes) {
    static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = static_cast<double>(bytes);
    size_t i = 0;
    while (v >= 1024.0 && i + 1 < std::size(kUnits)) {
        v /= 1024.0;
        ++i;
    }
    if (i == 0) return fmt::format("{} B", bytes);
    return fmt::format("{:.1f} {}", v, kUnits[i]);
}

std::string format_percent(uint64_t part, uint64_t whole) {
    if (whole == 0) return "—";
    double pct = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
    return pct < 10.0 ? fmt::format("{:.1f}%", pct) : fmt::format("{:.0f}%", pct);
}

}  // namespace cowtrace::report

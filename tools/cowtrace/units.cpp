#include "units.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace cowtrace::cli {

namespace {

// Splits "1.5 GiB" into 1.5 and "GiB"; false when there is no number.
bool split_number(const std::string& text, double& value, std::string& unit) {
    const char* s = text.c_str();
    while (isspace(static_cast<unsigned char>(*s))) ++s;
    if (*s == '\0' || *s == '-' || *s == '+') return false;
    char* end = nullptr;
    value = strtod(s, &end);
    if (end == s || !std::isfinite(value) || value < 0) return false;
    while (isspace(static_cast<unsigned char>(*end))) ++end;
    unit = end;
    while (!unit.empty() && isspace(static_cast<unsigned char>(unit.back()))) unit.pop_back();
    return true;
}

}  // namespace

bool parse_size(const std::string& text, uint64_t& bytes, std::string& error) {
    static const std::pair<const char*, double> kUnits[] = {{"", 1},
                                                            {"B", 1},
                                                            {"KiB", 1024.0},
                                                            {"MiB", 1048576.0},
                                                            {"GiB", 1073741824.0},
                                                            {"TiB", 1099511627776.0},
                                                            {"K", 1024.0},
                                                            {"M", 1048576.0},
                                                            {"G", 1073741824.0},
                                                            {"T", 1099511627776.0},
                                                            {"KB", 1e3},
                                                            {"MB", 1e6},
                                                            {"GB", 1e9},
                                                            {"TB", 1e12},
                                                            {"kB", 1e3},
                                                            {"k", 1024.0}};
    double value = 0;
    std::string unit;
    if (!split_number(text, value, unit)) {
        error = "'" + text + "' is not a size (examples: 64MiB, 1.5GiB, 500KB)";
        return false;
    }
    for (const auto& [name, factor] : kUnits) {
        if (unit != name) continue;
        double b = value * factor;
        if (b >= 18446744073709551615.0) {
            error = "'" + text + "' is too large";
            return false;
        }
        bytes = static_cast<uint64_t>(std::llround(b));
        return true;
    }
    error = "'" + text + "': unknown size unit '" + unit +
            "' (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)";
    return false;
}

bool parse_duration(const std::string& text, uint64_t& ns, std::string& error) {
    static const std::pair<const char*, double> kUnits[] = {
        {"", 1e6},   {"ns", 1},     {"us", 1e3},   {"ms", 1e6},   {"s", 1e9},
        {"m", 60e9}, {"min", 60e9}, {"h", 3600e9}, {"d", 86400e9}};
    double value = 0;
    std::string unit;
    if (!split_number(text, value, unit)) {
        error = "'" + text + "' is not a duration (examples: 100ms, 2s)";
        return false;
    }
    for (const auto& [name, factor] : kUnits) {
        if (unit != name) continue;
        double v = value * factor;
        if (v >= 9.2e18) {
            error = "'" + text + "' is too long";
            return false;
        }
        ns = static_cast<uint64_t>(std::llround(v));
        return true;
    }
    error = "'" + text + "': unknown time unit '" + unit + "' (use ns, us, ms, s, m)";
    return false;
}

}  // namespace cowtrace::cli

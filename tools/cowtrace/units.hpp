// Sizes and durations as people type them on a command line.
#pragma once

#include <cstdint>
#include <string>

namespace cowtrace::cli {

// "64MiB", "1.5GiB", "500KB", "4096", "64M" (K/M/G/T alone are binary, KB/MB/GB/TB decimal).
// False with error set for anything else (negative, unknown unit, overflow).
bool parse_size(const std::string& text, uint64_t& bytes, std::string& error);

// "100ms", "2s", "500us", "1m", "1h", "7d"; a bare number is milliseconds.
bool parse_duration(const std::string& text, uint64_t& ns, std::string& error);

}  // namespace cowtrace::cli

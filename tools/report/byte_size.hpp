// Byte counts as reports print them: binary units, one decimal ("8.0 MiB", "512 B").
#pragma once

#include <cstdint>
#include <string>

namespace cowtrace::report {

std::string format_bytes(uint64_t bytes);

// part as a percentage of whole, "37%" ("—" when whole is 0); below 10% with one decimal.
std::string format_percent(uint64_t part, uint64_t whole);

}  // namespace cowtrace::report

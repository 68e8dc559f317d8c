// The data the HTML page draws itself from, compact enough for 100,000 processes: strings once in
// a table and referred to by index, the process tree as columns of numbers with alike siblings
// as one folded group (pids as ranges, figures as min/median/max), full detail only for the
// costliest fork episodes, the rest summed into one series, and every series thinned to what a
// chart can show without losing its peak. `cowtrace report --format json` keeps everything.
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

#include "model/process_tree.hpp"

namespace cowtrace::report {

// Fork episodes given in full (regions, call site, copies by code), the costliest first.
inline constexpr size_t kDetailedEpisodes = 50;
// Of those, the ones charted each with its own line; the rest are one "other forks" line.
inline constexpr size_t kChartedEpisodes = 12;

nlohmann::json html_page_data(const model::ProcessTree& tree);

}  // namespace cowtrace::report

// `cowtrace diff` for people (what grew first, each line OLD → NEW) and for scripts (JSON).
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "trace_diff.hpp"

namespace cowtrace::diff {

struct DiffPaths {
    std::string old_trace;
    std::string new_trace;
};

void write_diff_text(const TraceDiff& diff, const DiffPaths& paths, std::ostream& out);

// Sizes in bytes, growth in percent (null where there is nothing to compare), absent sides null.
nlohmann::json diff_to_json(const TraceDiff& diff, const DiffPaths& paths);

}  // namespace cowtrace::diff

// What a trace says of itself (whether it is whole, where and on what kernel it ran, what it
// counted as lost, how it measured) as JSON fields: the part of the "trace" object the JSON
// report's tree and the HTML page's data have in common. Each adds its own fields to it.
#pragma once

#include <nlohmann/json.hpp>

#include "model/process_tree.hpp"

namespace cowtrace::report {

nlohmann::json trace_facts_json(const model::ProcessTree& tree);

}  // namespace cowtrace::report

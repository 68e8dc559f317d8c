// The model as JSON: the contract in README ("JSON report"), with extra fields around it.
#pragma once

#include <nlohmann/json.hpp>

#include "model/process_tree.hpp"

namespace cowtrace::report {

nlohmann::json to_json(const model::ProcessTree& tree);

}  // namespace cowtrace::report

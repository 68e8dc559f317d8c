// The model as JSON: the contract in README ("JSON report"), with extra fields around it.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "model/process_tree.hpp"

namespace cowtrace::report {

// The report, written while the model is walked (json_stream.hpp): `cowtrace report --format
// json`. Nothing but the stream's buffer is held, whatever the size of the trace.
void write_json(const model::ProcessTree& tree, std::ostream& out);

// The same document as a tree, for the HTML report, which adds to it before embedding it. Its
// dump(2, ' ', false, error_handler_t::replace) is write_json's text, byte for byte
// (tests/unit/report/json_report_test.cpp holds the two together).
nlohmann::json to_json(const model::ProcessTree& tree);

}  // namespace cowtrace::report

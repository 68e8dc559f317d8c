// Rebuilds the ProcessTree from a trace's records.
#pragma once

#include <string>
#include <vector>

#include "process_tree.hpp"
#include "time_ordered_records.hpp"
#include "trace/trace_reader.hpp"

namespace cowtrace::model {

// Reads every record of the given files (trace_files.cpp) (a trace, optionally spool files) into
// tree. Returns false only when nothing usable could be read; a damaged tail is noted in
// tree.reader_error.
bool build_process_tree(const std::vector<std::string>& paths, ProcessTree& tree,
                        std::string& error);

// The same from records already in memory (tests, fuzzing; tree_builder.cpp).
void build_process_tree_from(std::vector<RawRecord> records, ProcessTree& tree);
// The same from records that stay where they are until it returns (trace_files.cpp).
void build_process_tree_from(TimeOrderedRecords& records, ProcessTree& tree);

}  // namespace cowtrace::model

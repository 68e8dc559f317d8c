// Reads trace files into the report model for the commands that show or check them.
#pragma once

#include <string>
#include <vector>

#include "model/process_tree.hpp"
#include "progress_line.hpp"

namespace cowtrace::cli {

// False with a one-line error when nothing usable could be read. A damaged tail is not an
// error: the tree holds the valid part and tree.reader_error says where the damage starts.
bool load_trace(const std::vector<std::string>& paths, model::ProcessTree& tree, std::string& error,
                ProgressLine& progress);

}  // namespace cowtrace::cli

// The default report: a pstree-like tree (pid, what it ran, lifetime, how it ended, flags for
// what cowtrace could not see) with, under each fork, its copy-on-write summary; then the
// trace's own health.
#pragma once

#include <ostream>

#include "model/process_tree.hpp"

namespace cowtrace::report {

struct TextOptions {
    bool show_argv = false;  // pstree -a
    bool compact = true;     // identical leaf siblings as N*[name]
};

void write_text(const model::ProcessTree& tree, const TextOptions& options, std::ostream& out);

}  // namespace cowtrace::report

// Chrome Trace Event JSON (the object form, {"traceEvents":[…]}), which ui.perfetto.dev and
// chrome://tracing open: a span per process on tid = pid, its name, a flow arrow from each
// creating call to the child, and counter tracks for copy-on-write and resident memory.
#pragma once

#include <ostream>

#include "model/process_tree.hpp"

namespace cowtrace::report {

void write_perfetto(const model::ProcessTree& tree, std::ostream& out);

}  // namespace cowtrace::report

// The spool file (COWTRACE_SPOOL): where records go when no collector takes them. `cowtrace
// report` reads it like a trace. Async-signal-safe.
#pragma once

#include <cstddef>

namespace cowtrace::shim {

// Appends one finished record, marked as spooled. may_keep_open: the descriptor may become ours
// for later records (not in a vfork child, which must leave our globals alone). False when there
// is no spool or the write failed.
bool spool_write(void* record, size_t size, bool may_keep_open);

}  // namespace cowtrace::shim

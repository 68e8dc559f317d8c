// The call site of a process creation: a backtrace of return addresses taken in the parent,
// before the creation, outside any lock. Symbolized later by the collector, never in the host.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/record.hpp"

namespace cowtrace::shim {

struct CallSite {
    uint64_t frames[wire::kMaxFrames];
    size_t depth = 0;
};

// Loads libunwind privately (RTLD_LOCAL): linked normally it would export _Unwind_* and
// backtrace() to the whole host and replace the host's own C++ unwinder. Tried once, on the
// first call site; false when it is not available (call sites are then empty).
bool load_unwinder();

// Captures the caller's stack, dropping the frames inside this library. Runs in a parent before
// it creates a process (never in a child).
void capture_call_site(CallSite& out);

}  // namespace cowtrace::shim

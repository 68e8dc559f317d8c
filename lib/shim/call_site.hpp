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

// Captures the caller's stack, dropping the frames inside this library. Runs in a parent before
// it creates a process (never in a child), possibly in a signal handler: no allocation, no lock,
// no descriptor (see call_site.cpp).
void capture_call_site(CallSite& out);

}  // namespace cowtrace::shim

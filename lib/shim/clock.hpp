// The clock every record is stamped with: CLOCK_MONOTONIC, shared by the library, the collector
// and the kernel's proc connector, so records of all sources sort into causal order.
#pragma once

#include <time.h>

#include <cstdint>

#include "raw_syscall.hpp"

namespace cowtrace::shim {

inline uint64_t monotonic_ns() {
    timespec ts{};
    raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, rs_arg(&ts));
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace cowtrace::shim

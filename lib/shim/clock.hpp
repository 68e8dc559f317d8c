// The clock every record is stamped with: CLOCK_MONOTONIC, shared by the library, the collector
// and the kernel's proc connector, so records of all sources sort into causal order.
//
// Read through the vDSO's clock_gettime, the function glibc's own clock_gettime calls, found in
// the vDSO's symbol table (clock.cpp): no system call, no errno, no lock, so it is as safe in a
// vfork child, a signal handler or a forked child of a threaded program as the raw system call
// it replaces. Not glibc's clock_gettime itself: a host may interpose it (libfaketime shifts
// CLOCK_MONOTONIC too), and the records must agree with the kernel's clock. Until the library is
// initialised, or without a vDSO, the raw system call.
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>

#include "raw_syscall.hpp"

namespace cowtrace::shim {

using VdsoClockGettime = int (*)(clockid_t, timespec*);
extern std::atomic<VdsoClockGettime> g_vdso_clock_gettime;

// Finds the vDSO's clock_gettime (once, at initialisation; an exec'd image finds its own).
void bind_vdso_clock();

inline uint64_t monotonic_ns() {
    timespec ts{};
    VdsoClockGettime vdso = g_vdso_clock_gettime.load(std::memory_order_relaxed);
    // The vDSO returns the kernel's result (0 or -errno) and never touches errno.
    if (vdso == nullptr || vdso(CLOCK_MONOTONIC, &ts) != 0) {
        raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, rs_arg(&ts));
    }
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace cowtrace::shim

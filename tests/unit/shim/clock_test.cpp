#include "clock.hpp"

#include <gtest/gtest.h>

namespace cowtrace::shim {
namespace {

uint64_t kernel_monotonic_ns() {
    timespec ts{};
    raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, rs_arg(&ts));
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

TEST(MonotonicClock, VdsoClockIsFoundOnThisKernel) {
    bind_vdso_clock();
    EXPECT_NE(g_vdso_clock_gettime.load(), nullptr);
}

// Read between two readings of the system call, the vDSO's clock lies between them: the same
// clock, not another one (CLOCK_REALTIME, or a clock an interposer shifted).
TEST(MonotonicClock, VdsoReadingLiesBetweenTwoSystemCallReadings) {
    bind_vdso_clock();
    ASSERT_NE(g_vdso_clock_gettime.load(), nullptr);
    for (int i = 0; i < 1000; ++i) {
        uint64_t before = kernel_monotonic_ns();
        uint64_t ours = monotonic_ns();
        uint64_t after = kernel_monotonic_ns();
        ASSERT_LE(before, ours);
        ASSERT_LE(ours, after);
    }
}

TEST(MonotonicClock, WithoutVdsoTheSystemCallIsRead) {
    VdsoClockGettime saved = g_vdso_clock_gettime.exchange(nullptr);
    uint64_t before = kernel_monotonic_ns();
    uint64_t ours = monotonic_ns();
    uint64_t after = kernel_monotonic_ns();
    g_vdso_clock_gettime.store(saved);
    EXPECT_LE(before, ours);
    EXPECT_LE(ours, after);
}

}  // namespace
}  // namespace cowtrace::shim

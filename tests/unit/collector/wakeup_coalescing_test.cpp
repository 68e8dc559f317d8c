// The event loop's hold-off: only rounds of a burst let the next records gather.
#include "collector/wakeup_coalescing.hpp"

#include <gtest/gtest.h>

namespace cowtrace::collector {
namespace {

constexpr uint64_t kMs = 1'000'000;

TEST(WakeupCoalescing, TheFirstRoundIsNotHeldOff) {
    WakeupCoalescer c(kMs);
    EXPECT_EQ(c.hold_off_after(100 * kMs, 100 * kMs + 50'000, 1), 0u);
}

TEST(WakeupCoalescing, ARoundSoonAfterThePreviousOneIsFollowedByTheHoldOff) {
    WakeupCoalescer c(kMs);
    c.hold_off_after(100 * kMs, 100 * kMs + 10'000, 1);
    // The parent's record right behind a child's start: read at once, then the hold-off.
    EXPECT_EQ(c.hold_off_after(100 * kMs + 20'000, 100 * kMs + 30'000, 1), kMs);
}

TEST(WakeupCoalescing, ABurstStaysHeldOffRoundAfterRound) {
    WakeupCoalescer c(kMs);
    uint64_t t = 100 * kMs;
    c.hold_off_after(t, t + 10'000, 1);
    for (int round = 0; round < 5; ++round) {
        t += 20'000;
        uint64_t hold = c.hold_off_after(t, t + 10'000, 1);
        EXPECT_EQ(hold, kMs) << "round " << round;
        t += 10'000 + hold;  // the next round begins as the hold-off ends: records were waiting
    }
}

TEST(WakeupCoalescing, ARecordAfterAQuietSpellIsReadAtOnceAndNotHeldOff) {
    WakeupCoalescer c(kMs);
    c.hold_off_after(100 * kMs, 100 * kMs + 10'000, 1);
    EXPECT_EQ(c.hold_off_after(100 * kMs + 20'000, 100 * kMs + 30'000, 1), kMs);
    // Nothing came during or right after the hold-off: the burst is over.
    EXPECT_EQ(c.hold_off_after(105 * kMs, 105 * kMs + 10'000, 1), 0u);
}

TEST(WakeupCoalescing, AFullRoundIsNotHeldOffAFloodIsReadAsFastAsItComes) {
    WakeupCoalescer c(kMs);
    c.hold_off_after(100 * kMs, 100 * kMs + 10'000, 1);
    EXPECT_EQ(c.hold_off_after(100 * kMs + 20'000, 100 * kMs + 30'000, WakeupCoalescer::kFullRound),
              0u);
    // The flood ebbs: a small round right after is held off again.
    EXPECT_EQ(c.hold_off_after(100 * kMs + 40'000, 100 * kMs + 50'000, 3), kMs);
}

TEST(WakeupCoalescing, NoHoldOffConfiguredMeansNone) {
    WakeupCoalescer c(0);
    c.hold_off_after(100 * kMs, 100 * kMs + 10'000, 1);
    EXPECT_EQ(c.hold_off_after(100 * kMs + 10'000, 100 * kMs + 20'000, 1), 0u);
}

}  // namespace
}  // namespace cowtrace::collector

#include "collector/sampling_delay.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace cowtrace::collector {
namespace {

constexpr uint64_t kMs = 1'000'000ull;
constexpr uint64_t kFork = 5'000 * kMs;  // a fork time well past the clock's start
constexpr pid_t kParent = 50;

TEST(SamplingDelay, AnEpisodeFallsDueOnlyOnceItHasLastedTwoMilliseconds) {
    SamplingDelay delay;
    EXPECT_EQ(SamplingDelay::kHoldOffNs, 2 * kMs);
    delay.hold_off(100, kParent, kFork);
    EXPECT_TRUE(delay.take_due(kFork).empty());
    EXPECT_TRUE(delay.take_due(kFork + 2 * kMs - 1).empty());
    EXPECT_TRUE(delay.holds(100));
    EXPECT_EQ(delay.take_due(kFork + 2 * kMs), std::vector<pid_t>{100});
    // Taken once: it is no longer held off, and forgetting it says its events were opened.
    EXPECT_FALSE(delay.holds(100));
    EXPECT_TRUE(delay.take_due(kFork + 10 * kMs).empty());
    EXPECT_FALSE(delay.forget(100));
}

TEST(SamplingDelay, AnEpisodeThatEndsWithinTheHoldOffNeverFallsDue) {
    SamplingDelay delay;
    delay.hold_off(100, kParent, kFork);
    delay.hold_off(101, kParent, kFork + kMs);
    EXPECT_TRUE(delay.forget(100));  // exec'd within the hold-off: never opened
    EXPECT_FALSE(delay.forget(100));
    EXPECT_FALSE(delay.forget(999));  // never held
    EXPECT_EQ(delay.take_due(kFork + 10 * kMs), std::vector<pid_t>{101});
    EXPECT_EQ(delay.size(), 0u);
}

TEST(SamplingDelay, DueEpisodesComeEarliestForkFirst) {
    SamplingDelay delay;
    // Told in another order than they forked (the census takes forks up as it can).
    delay.hold_off(300, kParent, kFork + 3 * kMs);
    delay.hold_off(100, kParent, kFork + 1 * kMs);
    delay.hold_off(200, kParent, kFork + 2 * kMs);
    delay.hold_off(400, kParent, kFork + 9 * kMs);
    EXPECT_EQ(delay.take_due(kFork + 5 * kMs), (std::vector<pid_t>{100, 200, 300}));
    EXPECT_EQ(delay.size(), 1u);
    EXPECT_TRUE(delay.holds(400));
}

TEST(SamplingDelay, TheWaitLastsUntilTheNextEpisodeFallsDue) {
    SamplingDelay delay;
    EXPECT_FALSE(delay.ns_until_next_due(kFork).has_value());  // nothing held: wait idle
    delay.hold_off(100, kParent, kFork);
    delay.hold_off(200, kParent, kFork + kMs / 2);
    EXPECT_EQ(delay.ns_until_next_due(kFork + kMs / 2), 3 * kMs / 2);
    EXPECT_EQ(delay.ns_until_next_due(kFork + 3 * kMs), 0u);  // overdue: at once
    delay.forget(100);
    EXPECT_EQ(delay.ns_until_next_due(kFork + kMs), 3 * kMs / 2);
    delay.forget(200);
    EXPECT_FALSE(delay.ns_until_next_due(kFork).has_value());
}

TEST(SamplingDelay, AnEpisodeTakenUpLateIsDueAtOnce) {
    SamplingDelay delay;
    // The census thread was busy: the fork was 30 ms ago when the episode reached us.
    delay.hold_off(100, kParent, kFork);
    EXPECT_EQ(delay.ns_until_next_due(kFork + 30 * kMs), 0u);
    EXPECT_EQ(delay.take_due(kFork + 30 * kMs), std::vector<pid_t>{100});
}

TEST(SamplingDelay, APidHeldAgainIsDueFromItsNewFork) {
    SamplingDelay delay;
    delay.hold_off(100, kParent, kFork);
    delay.hold_off(100, kParent, kFork + 5 * kMs);  // the pid reused by a new child
    EXPECT_EQ(delay.size(), 1u);
    EXPECT_TRUE(delay.take_due(kFork + 3 * kMs).empty());
    EXPECT_EQ(delay.take_due(kFork + 7 * kMs), std::vector<pid_t>{100});
    EXPECT_EQ(delay.size(), 0u);
}

TEST(SamplingDelay, TheReasonSaysTheEpisodeEndedBeforeItsFaultsWereSampled) {
    SamplingDelay delay;
    EXPECT_EQ(delay.unsampled_reason(kFork, kFork + kMs),
              "ended within 2 ms of its fork, before its page faults were sampled");
    // Its end came after the hold-off, but before the collector opened its events.
    std::string late = delay.unsampled_reason(kFork, kFork + 7 * kMs);
    EXPECT_EQ(late.rfind("ended before its page faults were sampled", 0), 0u) << late;
    EXPECT_NE(late.find("the collector was behind"), std::string::npos) << late;
    EXPECT_EQ(SamplingDelay(500'000).unsampled_reason(kFork, kFork + 1),
              "ended within 0.5 ms of its fork, before its page faults were sampled");
}

// A shell's children, each ending (exec) 3 ms after its fork, from first.
void quick_children(SamplingDelay& delay, pid_t parent, pid_t first, int n, uint64_t t) {
    for (int i = 0; i < n; ++i) {
        pid_t child = first + i;
        uint64_t fork = t + static_cast<uint64_t>(i) * 10 * kMs;
        delay.hold_off(child, parent, fork);
        delay.take_due(fork + 2 * kMs);  // opened at 2 ms: on a loaded machine, most are
        delay.ended(parent, fork, fork + 3 * kMs);
    }
}

TEST(SamplingDelay, AParentWhoseChildrenAllEndSoonHasTheirsHeldLonger) {
    SamplingDelay delay;
    quick_children(delay, kParent, 100, SamplingDelay::kQuickStreak - 1, kFork);
    EXPECT_EQ(delay.hold_off_ns_for(kParent), 2 * kMs);  // one short of the streak
    quick_children(delay, kParent, 200, 1, kFork + kMs * 1000);
    EXPECT_EQ(delay.hold_off_ns_for(kParent), SamplingDelay::kLongHoldOffNs);
    EXPECT_EQ(delay.hold_off_ns_for(kParent + 1), 2 * kMs);  // another parent's children
    // The next child is not due at 2 ms, but at 20.
    uint64_t fork = kFork + 2000 * kMs;
    delay.hold_off(300, kParent, fork);
    EXPECT_TRUE(delay.take_due(fork + 2 * kMs).empty());
    EXPECT_EQ(delay.take_due(fork + SamplingDelay::kLongHoldOffNs), std::vector<pid_t>{300});
}

TEST(SamplingDelay, OneChildThatLivesLongerEndsTheStreak) {
    SamplingDelay delay;
    quick_children(delay, kParent, 100, SamplingDelay::kQuickStreak, kFork);
    ASSERT_EQ(delay.hold_off_ns_for(kParent), SamplingDelay::kLongHoldOffNs);
    uint64_t fork = kFork + 1000 * kMs;
    delay.hold_off(300, kParent, fork);
    delay.take_due(fork + SamplingDelay::kLongHoldOffNs);
    delay.ended(kParent, fork, fork + 500 * kMs);  // a BGSAVE child, say
    EXPECT_EQ(delay.hold_off_ns_for(kParent), 2 * kMs);
}

TEST(SamplingDelay, TheReasonOfALongerHoldOffSaysWhy) {
    SamplingDelay delay;
    quick_children(delay, kParent, 100, SamplingDelay::kQuickStreak, kFork);
    uint64_t fork = kFork + 1000 * kMs;
    delay.hold_off(300, kParent, fork);
    uint64_t hold = 0;
    ASSERT_TRUE(delay.forget(300, &hold));
    EXPECT_EQ(hold, SamplingDelay::kLongHoldOffNs);
    std::string reason = delay.unsampled_reason(fork, fork + 5 * kMs, hold);
    EXPECT_EQ(reason.rfind("ended within 20 ms of its fork", 0), 0u) << reason;
    EXPECT_NE(reason.find("its parent's last 8 children all ended within 20 ms"), std::string::npos)
        << reason;
}

}  // namespace
}  // namespace cowtrace::collector

#include "collector/recent_exits.hpp"

#include <gtest/gtest.h>

namespace cowtrace::collector {
namespace {

constexpr uint64_t kSecond = 1'000'000'000ull;

TEST(RecentExits, NewsDatedBeforeTheEndIsAboutTheProcessThatEnded) {
    RecentExits exits;
    exits.ended(100, 5 * kSecond);
    EXPECT_TRUE(exits.ended_after(100, 4 * kSecond));  // its Hello, read after its exit
    EXPECT_TRUE(exits.ended_after(100, 5 * kSecond));
    EXPECT_FALSE(exits.ended_after(100, 6 * kSecond));  // a later holder of the pid
    EXPECT_FALSE(exits.ended_after(101, 4 * kSecond));  // never ended
}

TEST(RecentExits, EndsOlderThanTheWindowAreForgotten) {
    RecentExits exits;
    exits.ended(100, 1 * kSecond);
    exits.ended(200, 2 * kSecond);
    exits.ended(300, 1 * kSecond + RecentExits::kRememberNs + 1);
    EXPECT_FALSE(exits.ended_after(100, 0));
    EXPECT_TRUE(exits.ended_after(200, 0));
    EXPECT_EQ(exits.size(), 2u);
}

TEST(RecentExits, APidThatEndsAgainKeepsItsLatestEnd) {
    RecentExits exits;
    exits.ended(100, 1 * kSecond);
    exits.ended(100, 8 * kSecond);
    // Forgetting the first end must not forget the second.
    exits.ended(200, 1 * kSecond + RecentExits::kRememberNs + 1);
    EXPECT_TRUE(exits.ended_after(100, 7 * kSecond));
}

}  // namespace
}  // namespace cowtrace::collector

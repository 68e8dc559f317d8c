#include "collector/pid_set.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace cowtrace::collector {
namespace {

TEST(PidSet, InsertFindEraseAsASetDoes) {
    PidSet pids;
    EXPECT_TRUE(pids.empty());
    EXPECT_FALSE(pids.contains(42));
    EXPECT_FALSE(pids.erase(42));
    EXPECT_TRUE(pids.insert(42));
    EXPECT_FALSE(pids.insert(42));
    EXPECT_TRUE(pids.contains(42));
    EXPECT_EQ(pids.size(), 1u);
    EXPECT_TRUE(pids.erase(42));
    EXPECT_FALSE(pids.contains(42));
    EXPECT_TRUE(pids.empty());
}

TEST(PidSet, PidZeroAndNegativeValuesAreKeptToo) {
    PidSet pids;
    EXPECT_TRUE(pids.insert(0));
    EXPECT_TRUE(pids.insert(-1));
    EXPECT_TRUE(pids.contains(0));
    EXPECT_TRUE(pids.contains(-1));
    EXPECT_EQ(pids.sorted(), (std::vector<pid_t>{-1, 0}));
    EXPECT_TRUE(pids.erase(0));
    EXPECT_FALSE(pids.contains(0));
    EXPECT_EQ(pids.size(), 1u);
}

TEST(PidSet, SortedListsEveryPidInAscendingOrder) {
    PidSet pids;
    for (pid_t p : {900, 3, 77, 4000000, 12}) pids.insert(p);
    EXPECT_EQ(pids.sorted(), (std::vector<pid_t>{3, 12, 77, 900, 4000000}));
}

// Erasing moves later entries of a probe run back into the hole: every pid still in the set
// must be found after any sequence of inserts and erases, whatever collided with what.
TEST(PidSet, AgreesWithStdSetOverManyInsertsAndErasesThatCollide) {
    PidSet pids;
    std::set<pid_t> truth;
    std::mt19937 rng(7);
    // A small range: the same pids come and go, and runs of probes wrap around the table.
    std::uniform_int_distribution<pid_t> pid(1, 3000);
    for (int step = 0; step < 200000; ++step) {
        pid_t p = pid(rng);
        if (rng() % 3 == 0) {
            ASSERT_EQ(pids.erase(p), truth.erase(p) == 1) << "step " << step;
        } else {
            ASSERT_EQ(pids.insert(p), truth.insert(p).second) << "step " << step;
        }
        ASSERT_EQ(pids.size(), truth.size());
    }
    for (pid_t p = 0; p <= 3001; ++p) ASSERT_EQ(pids.contains(p), truth.count(p) == 1) << p;
    EXPECT_EQ(pids.sorted(), std::vector<pid_t>(truth.begin(), truth.end()));
}

TEST(PidSet, ShortLivedPidsComingAndGoingLeaveItEmpty) {
    PidSet pids;
    for (pid_t p = 1; p < 100000; ++p) {
        pids.insert(p);
        if (p > 10) pids.erase(p - 10);
    }
    EXPECT_EQ(pids.size(), 10u);
    pids.clear();
    EXPECT_TRUE(pids.empty());
    EXPECT_FALSE(pids.contains(99999));
}

}  // namespace
}  // namespace cowtrace::collector

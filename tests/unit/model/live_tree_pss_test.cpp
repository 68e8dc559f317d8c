// The tree's PSS as a collection goes (the Prometheus gauge, the live view): a child that exits
// shares its pages until it is gone, whenever its episode's final census came.
#include "model/live_tree_pss.hpp"

#include <gtest/gtest.h>

namespace cowtrace::model {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr pid_t kParent = 100, kChild = 101;

// A 100 MiB parent forks; both are sampled with the 100 MiB shared (50 MiB each).
LiveTreePss forked_and_sampled() {
    LiveTreePss t;
    t.process_started(kParent);
    t.memory_sampled(kParent, 100 * kMiB);
    t.process_started(kChild);
    t.episode_started(kChild, kParent, 100 * kMiB);
    t.memory_sampled(kParent, 50 * kMiB);
    t.memory_sampled(kChild, 50 * kMiB);
    return t;
}

TEST(LiveTreePss, AChildSampledAfterItsFinalCensusIsNotCountedTwice) {
    LiveTreePss t = forked_and_sampled();
    t.episode_sampled(kChild, 100 * kMiB);
    t.episode_ended(kChild, /*child_exits=*/true);
    // Still alive after its final census, and sampled: it still holds its half.
    t.memory_sampled(kChild, 50 * kMiB);
    EXPECT_EQ(t.total_bytes(), 100 * kMiB);
    t.process_ended(kChild);
    EXPECT_EQ(t.total_bytes(), 100 * kMiB) << "its half of what it still shared is the parent's";
    EXPECT_EQ(t.share_of(kParent), 100 * kMiB);
    EXPECT_EQ(t.share_of(kChild), 0u);
}

TEST(LiveTreePss, AnExecLetsGoOfTheSharedPagesAtOnce) {
    LiveTreePss t = forked_and_sampled();
    t.episode_sampled(kChild, 60 * kMiB);  // the parent copied 40 MiB
    t.episode_ended(kChild, /*child_exits=*/false);
    EXPECT_EQ(t.share_of(kParent), 80 * kMiB) << "half of the 60 MiB still shared comes back";
    t.memory_sampled(kChild, 2 * kMiB);  // the new image
    EXPECT_EQ(t.total_bytes(), 82 * kMiB);
    t.process_ended(kChild);
    EXPECT_EQ(t.total_bytes(), 80 * kMiB) << "nothing is passed back a second time";
}

TEST(LiveTreePss, AChildGoneBeforeItsEpisodeStartedTakesNoShare) {
    LiveTreePss t;
    t.process_started(kParent);
    t.memory_sampled(kParent, 100 * kMiB);
    t.process_started(kChild);
    t.process_ended(kChild);
    t.episode_started(kChild, kParent, 100 * kMiB);
    EXPECT_EQ(t.share_of(kParent), 100 * kMiB);
    t.memory_sampled(kChild, 50 * kMiB);
    EXPECT_EQ(t.total_bytes(), 100 * kMiB) << "a late sample of a process already gone is ignored";
    t.episode_ended(kChild, true);
    EXPECT_EQ(t.total_bytes(), 100 * kMiB);
    EXPECT_EQ(t.tracked(), 1u);
}

TEST(LiveTreePss, AnEpisodeStartedAgainInARotatedFileIsNotPassedTwice) {
    LiveTreePss t = forked_and_sampled();
    t.episode_started(kChild, kParent, 100 * kMiB);
    EXPECT_EQ(t.share_of(kParent), 50 * kMiB);
    EXPECT_EQ(t.share_of(kChild), 50 * kMiB);
}

}  // namespace
}  // namespace cowtrace::model

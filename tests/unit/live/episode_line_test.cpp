// attach --live without a terminal prints one line per ended episode.
#include "live/episode_line.hpp"

#include <gtest/gtest.h>

#include "live_records.hpp"

namespace cowtrace::live {
namespace {

TEST(EpisodeLine, SaysTheForkItsCommandDurationAndCopies) {
    EndedEpisode e;
    e.parent = 4242;
    e.child = 4243;
    e.command = "redis-server *:6379";
    e.duration_ns = 2400 * kMs;
    e.shared_bytes = 64 * kMiB;
    e.copied_bytes = 20 * kMiB;
    e.measured = true;
    EXPECT_EQ(episode_line(e),
              "fork 4242 → 4243 (redis-server *:6379) ended after 2.4 s: shared 64.0 MiB, "
              "copied 20.0 MiB (31%)");
}

TEST(EpisodeLine, AnUnmeasuredEpisodeSaysSoAndControlCharactersAreNotPrinted) {
    EndedEpisode e;
    e.parent = 1;
    e.child = 2;
    e.command = "evil\033[2Jname";
    e.duration_ns = 5 * kMs;
    EXPECT_EQ(episode_line(e),
              "fork 1 → 2 (evil?[2Jname) ended after 0.0 s: not measured (it ended before its "
              "first sample)");
}

}  // namespace
}  // namespace cowtrace::live

// Two runs lined up: forks by the program that forked and its call site, processes by program
// and command line (then program alone), each side's figures kept.
#include "diff/trace_diff.hpp"

#include <gtest/gtest.h>

#include "run_builder.hpp"

namespace cowtrace::diff {
namespace {

using testing::kMiB;
using testing::kRewriteSite;
using testing::kSaveSite;
using testing::kServerPid;
using testing::RunBuilder;

const ForkSiteDiff& site_at(const TraceDiff& d, const std::string& frame) {
    for (const auto& s : d.fork_sites) {
        if (!s.frames.empty() && s.frames.back() == frame) return s;
    }
    ADD_FAILURE() << "no fork site at " << frame;
    static ForkSiteDiff none;
    return none;
}

TEST(TraceDiff, ForksAreLinedUpByProgramAndCallSite) {
    auto old_tree = RunBuilder()
                        .fork(200, kSaveSite, 64 * kMiB, 20 * kMiB)
                        .fork(201, kSaveSite, 64 * kMiB, 10 * kMiB)
                        .fork(202, kRewriteSite, 64 * kMiB, 4 * kMiB)
                        .tree();
    auto new_tree = RunBuilder()
                        .fork(300, kSaveSite, 64 * kMiB, 26 * kMiB)
                        .fork(301, kRewriteSite, 64 * kMiB, 4 * kMiB)
                        .tree();
    TraceDiff d = diff_runs(old_tree, new_tree);
    ASSERT_EQ(d.fork_sites.size(), 2u);
    const ForkSiteDiff& save = site_at(d, "rdbSaveBackground+0x4d (server)");
    EXPECT_EQ(save.program, "server");
    EXPECT_EQ(save.how, "fork");
    ASSERT_TRUE(save.old_run && save.new_run);
    EXPECT_EQ(save.old_run->forks, 2u);
    EXPECT_EQ(save.old_run->largest_copied_bytes, 20 * kMiB);
    EXPECT_EQ(save.old_run->largest_child, 200);
    EXPECT_EQ(save.old_run->copied_bytes_total, 30 * kMiB);
    EXPECT_EQ(save.new_run->forks, 1u);
    EXPECT_EQ(save.new_run->largest_copied_bytes, 26 * kMiB);
    EXPECT_EQ(save.new_run->largest_child, 300);
    EXPECT_EQ(save.new_run->largest_shared_bytes, 64 * kMiB);
    EXPECT_EQ(save.new_run->largest_command, "/usr/bin/server --port 6379");
    EXPECT_EQ(d.fork_sites.front().frames.back(), "rdbSaveBackground+0x4d (server)")
        << "the largest growth comes first";
    EXPECT_EQ(growth_text(20 * kMiB, 26 * kMiB), "+30.0%");
}

TEST(TraceDiff, ShortLivedForksHaveNoFiguresRatherThanZero) {
    auto old_tree = RunBuilder().short_lived_fork(200, kSaveSite).tree();
    auto new_tree = RunBuilder().fork(300, kSaveSite, 64 * kMiB, 8 * kMiB).tree();
    TraceDiff d = diff_runs(old_tree, new_tree);
    ASSERT_EQ(d.fork_sites.size(), 1u);
    const ForkSiteDiff& s = d.fork_sites.front();
    ASSERT_TRUE(s.old_run && s.new_run);
    EXPECT_EQ(s.old_run->forks, 1u);
    EXPECT_FALSE(s.old_run->has_copy_figures());
    EXPECT_TRUE(s.new_run->has_copy_figures());
    EXPECT_EQ(d.old_run.forks, 1u);
    EXPECT_EQ(d.old_run.measured_forks, 0u);
}

TEST(TraceDiff, ASiteOnlyOneRunForkedFromHasOneSide) {
    auto old_tree = RunBuilder().fork(200, kSaveSite, 64 * kMiB, 8 * kMiB).tree();
    auto new_tree = RunBuilder().fork(300, kRewriteSite, 64 * kMiB, 8 * kMiB).tree();
    TraceDiff d = diff_runs(old_tree, new_tree);
    ASSERT_EQ(d.fork_sites.size(), 2u);
    const ForkSiteDiff& gone = site_at(d, "rdbSaveBackground+0x4d (server)");
    const ForkSiteDiff& added = site_at(d, "rewriteAppendOnlyFileBackground+0x31 (server)");
    EXPECT_TRUE(gone.old_run && !gone.new_run);
    EXPECT_TRUE(!added.old_run && added.new_run);
}

TEST(TraceDiff, UnnamedFramesMatchWhateverAddressTheyHad) {
    // Address-space randomisation moves an unresolved frame from run to run.
    auto old_tree = RunBuilder().fork(200, 0x55d0c0de11d0, 64 * kMiB, 8 * kMiB).tree();
    auto new_tree = RunBuilder().fork(300, 0x5611aaaa11d0, 64 * kMiB, 9 * kMiB).tree();
    TraceDiff d = diff_runs(old_tree, new_tree);
    ASSERT_EQ(d.fork_sites.size(), 1u);
    EXPECT_EQ(d.fork_sites.front().frames, std::vector<std::string>{"?"});
    EXPECT_TRUE(d.fork_sites.front().old_run && d.fork_sites.front().new_run);
}

TEST(TraceDiff, ProcessesAreLinedUpByCommandLineThenByProgram) {
    auto old_tree = RunBuilder({"/usr/bin/server", "--dir", "/tmp/a1"})
                        .spawn(400, {"/bin/gzip", "-9"})
                        .spawn(401, {"/bin/gzip", "-9"})
                        .memory(kServerPid, 100 * kMiB, 90 * kMiB)
                        .tree();
    auto new_tree = RunBuilder({"/usr/bin/server", "--dir", "/tmp/b2"})
                        .spawn(500, {"/bin/gzip", "-9"})
                        .spawn(501, {"/bin/gzip", "-9"})
                        .spawn(502, {"/bin/gzip", "-9"})
                        .memory(kServerPid, 120 * kMiB, 95 * kMiB)
                        .tree();
    TraceDiff d = diff_runs(old_tree, new_tree);
    ASSERT_EQ(d.processes.size(), 2u);
    const ProcessGroupDiff& server = d.processes.front();  // grew the most RSS
    EXPECT_EQ(server.program, "server");
    EXPECT_TRUE(server.matched_by_program_only);
    ASSERT_TRUE(server.old_run && server.new_run);
    EXPECT_EQ(server.old_run->command, "/usr/bin/server --dir /tmp/a1");
    EXPECT_EQ(server.new_run->command, "/usr/bin/server --dir /tmp/b2");
    EXPECT_EQ(server.old_run->peak_rss_bytes, 100 * kMiB);
    EXPECT_EQ(server.new_run->peak_rss_bytes, 120 * kMiB);
    EXPECT_EQ(server.new_run->peak_rss_pid, kServerPid);
    const ProcessGroupDiff& gzip = d.processes.back();
    EXPECT_EQ(gzip.program, "gzip");
    EXPECT_FALSE(gzip.matched_by_program_only);
    EXPECT_EQ(gzip.old_run->count, 2u);
    EXPECT_EQ(gzip.new_run->count, 3u);
    EXPECT_EQ(d.old_run.processes, 3u);
    EXPECT_EQ(d.new_run.processes, 4u);
    EXPECT_EQ(d.old_run.tree_pss_peak_bytes, 90 * kMiB);
    EXPECT_EQ(d.new_run.tree_pss_peak_bytes, 95 * kMiB);
}

TEST(TraceDiff, GrowthFromNothingHasNoRatio) {
    EXPECT_FALSE(growth_percent(0, kMiB).has_value());
    EXPECT_EQ(growth_text(0, kMiB), "new");
    EXPECT_EQ(growth_text(kMiB, kMiB), "0%");
    EXPECT_EQ(growth_text(4 * kMiB, 3 * kMiB), "-25.0%");
}

}  // namespace
}  // namespace cowtrace::diff

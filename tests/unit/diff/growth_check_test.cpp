// Growth budgets against a baseline: a failure names what grew, by how much and from where;
// forks the baseline could not measure are not "grown from nothing"; noise does not fail.
#include "check/growth_check.hpp"

#include <gtest/gtest.h>

#include "run_builder.hpp"

namespace cowtrace::check {
namespace {

using testing::kMiB;
using testing::kRewriteSite;
using testing::kSaveSite;
using testing::kServerPid;
using testing::RunBuilder;

BudgetResult only(const model::ProcessTree& old_tree, const model::ProcessTree& new_tree,
                  const GrowthBudgets& b) {
    auto results = check_growth(diff::diff_runs(old_tree, new_tree), b);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? BudgetResult{} : results.front();
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(GrowthCheck, CopyGrownOverTheLimitFailsNamingTheCallSiteAndTheFork) {
    auto old_tree = RunBuilder().fork(200, kSaveSite, 64 * kMiB, 20 * kMiB).tree();
    auto new_tree = RunBuilder().fork(300, kSaveSite, 64 * kMiB, 26 * kMiB).tree();
    BudgetResult r = only(old_tree, new_tree, {.max_cow_growth_percent = 10});
    EXPECT_EQ(r.verdict, Verdict::kExceeded);
    EXPECT_EQ(r.exit_bit, kExitCowBudget);
    EXPECT_EQ(r.option(), "--max-cow-growth 10%");
    EXPECT_TRUE(contains(r.summary, "server fork at rdbSaveBackground+0x4d (server)")) << r.summary;
    EXPECT_TRUE(contains(
        r.summary, "copied 26.0 MiB (pid 300), +30.0% over the baseline's 20.0 MiB (pid 200)"))
        << r.summary;
    ASSERT_EQ(r.offenders.size(), 1u);
    EXPECT_TRUE(contains(r.offenders[0],
                         "pid 300 `/usr/bin/server --port 6379` copied 26.0 MiB of 64.0 MiB"))
        << r.offenders[0];
}

TEST(GrowthCheck, CopyGrownWithinTheLimitPasses) {
    auto old_tree = RunBuilder().fork(200, kSaveSite, 64 * kMiB, 20 * kMiB).tree();
    auto new_tree = RunBuilder().fork(300, kSaveSite, 64 * kMiB, 21 * kMiB).tree();
    BudgetResult r = only(old_tree, new_tree, {.max_cow_growth_percent = 10});
    EXPECT_EQ(r.verdict, Verdict::kMet) << r.summary;
    EXPECT_TRUE(contains(r.summary, "1 compared; the most: +5.0%")) << r.summary;
    EXPECT_EQ(only(old_tree, old_tree, {.max_cow_growth_percent = 0}).verdict, Verdict::kMet);
}

TEST(GrowthCheck, GrowthBelowTheNoiseFloorPassesWhateverItsPercentage) {
    auto old_tree = RunBuilder().fork(200, kSaveSite, 64 * kMiB, 64 * 1024).tree();
    auto new_tree = RunBuilder().fork(300, kSaveSite, 64 * kMiB, 512 * 1024).tree();
    EXPECT_EQ(only(old_tree, new_tree, {.max_cow_growth_percent = 10}).verdict, Verdict::kMet);
    BudgetResult r =
        only(old_tree, new_tree, {.max_cow_growth_percent = 10, .ignore_below_bytes = 4096});
    EXPECT_EQ(r.verdict, Verdict::kExceeded) << r.summary;
}

TEST(GrowthCheck, ANewCallSiteThatCopiesHasGrown) {
    auto old_tree = RunBuilder().fork(200, kSaveSite, 64 * kMiB, 20 * kMiB).tree();
    auto new_tree = RunBuilder()
                        .fork(300, kSaveSite, 64 * kMiB, 20 * kMiB)
                        .fork(301, kRewriteSite, 64 * kMiB, 8 * kMiB)
                        .tree();
    BudgetResult r = only(old_tree, new_tree, {.max_cow_growth_percent = 10});
    EXPECT_EQ(r.verdict, Verdict::kExceeded);
    EXPECT_TRUE(contains(r.summary,
                         "rewriteAppendOnlyFileBackground+0x31 (server) copied 8.0 MiB (pid 301), "
                         "a call site the baseline did not fork from"))
        << r.summary;
    ASSERT_EQ(r.offenders.size(), 1u);
    EXPECT_TRUE(contains(r.offenders[0], "not in the baseline")) << r.offenders[0];
}

TEST(GrowthCheck, ForksTheBaselineCouldNotMeasureAreNotGrownFromNothing) {
    auto old_tree = RunBuilder()
                        .fork(200, kSaveSite, 64 * kMiB, 20 * kMiB)
                        .short_lived_fork(201, kRewriteSite)
                        .tree();
    auto new_tree = RunBuilder()
                        .fork(300, kSaveSite, 64 * kMiB, 20 * kMiB)
                        .fork(301, kRewriteSite, 64 * kMiB, 8 * kMiB)
                        .tree();
    BudgetResult r = only(old_tree, new_tree, {.max_cow_growth_percent = 10});
    EXPECT_EQ(r.verdict, Verdict::kMet) << r.summary;
    // Short-lived on both sides is not compared either.
    auto both_short = RunBuilder().short_lived_fork(300, kSaveSite).tree();
    EXPECT_EQ(only(RunBuilder().short_lived_fork(200, kSaveSite).tree(), both_short,
                   {.max_cow_growth_percent = 0})
                  .verdict,
              Verdict::kMet);
}

TEST(GrowthCheck, ABaselineWithoutCensusCannotPassACopyBudget) {
    auto old_tree = RunBuilder().fork(200, kSaveSite, 64 * kMiB, 20 * kMiB).without_census().tree();
    auto new_tree = RunBuilder().fork(300, kSaveSite, 64 * kMiB, 20 * kMiB).tree();
    BudgetResult r = only(old_tree, new_tree, {.max_cow_growth_percent = 10});
    EXPECT_EQ(r.verdict, Verdict::kNotMeasured);
    EXPECT_TRUE(contains(r.summary, "the baseline has no copy-on-write census")) << r.summary;
}

TEST(GrowthCheck, RssGrowthNamesTheProgramAndBothCommandLines) {
    auto old_tree = RunBuilder({"/usr/bin/server", "--dir", "/tmp/a1"})
                        .memory(kServerPid, 100 * kMiB, 50 * kMiB)
                        .tree();
    auto new_tree = RunBuilder({"/usr/bin/server", "--dir", "/tmp/b2"})
                        .memory(kServerPid, 130 * kMiB, 52 * kMiB)
                        .tree();
    BudgetResult r = only(old_tree, new_tree, {.max_rss_growth_percent = 10});
    EXPECT_EQ(r.verdict, Verdict::kExceeded);
    EXPECT_EQ(r.exit_bit, kExitMemoryBudget);
    EXPECT_TRUE(contains(r.summary,
                         "pid 101 `/usr/bin/server --dir /tmp/b2` reached an RSS of 130.0 MiB, "
                         "+30.0% over the baseline's 100.0 MiB"))
        << r.summary;
    ASSERT_EQ(r.offenders.size(), 1u) << "the tree's PSS grew 4%";
    EXPECT_TRUE(contains(r.offenders[0], "(the baseline ran `/usr/bin/server --dir /tmp/a1`)"))
        << r.offenders[0];
    EXPECT_EQ(only(old_tree, new_tree, {.max_rss_growth_percent = 30}).verdict, Verdict::kMet);
}

TEST(GrowthCheck, TreePssGrowthFailsEvenWhenNoProcessGrewMuch) {
    auto old_tree = RunBuilder().memory(kServerPid, 100 * kMiB, 50 * kMiB).tree();
    auto new_tree = RunBuilder().memory(kServerPid, 101 * kMiB, 70 * kMiB).tree();
    BudgetResult r = only(old_tree, new_tree, {.max_rss_growth_percent = 10});
    EXPECT_EQ(r.verdict, Verdict::kExceeded);
    EXPECT_TRUE(contains(r.summary, "the tree's PSS peak grew from 50.0 MiB to 70.0 MiB, +40.0%"))
        << r.summary;
}

TEST(GrowthCheck, MoreProcessesThanAllowedNamesWhoseCountGrew) {
    auto old_tree = RunBuilder().spawn(400, {"/bin/gzip", "-9"}).tree();
    auto new_tree = RunBuilder()
                        .spawn(500, {"/bin/gzip", "-9"})
                        .spawn(501, {"/bin/gzip", "-9"})
                        .spawn(502, {"/bin/gzip", "-9"})
                        .tree();
    EXPECT_EQ(only(old_tree, new_tree, {.max_processes_growth = 2}).verdict, Verdict::kMet);
    BudgetResult r = only(old_tree, new_tree, {.max_processes_growth = 1});
    EXPECT_EQ(r.verdict, Verdict::kExceeded);
    EXPECT_EQ(r.exit_bit, kExitProcessBudget);
    EXPECT_TRUE(contains(r.summary, "at most 1 more process than the baseline's 2 but had 4 (+2)"))
        << r.summary;
    ASSERT_EQ(r.offenders.size(), 1u);
    EXPECT_EQ(r.offenders[0], "gzip `/bin/gzip -9`: 1 → 3 processes (+2)");
}

TEST(GrowthCheck, EveryBudgetGivenHasOneResultInOrder) {
    auto t = RunBuilder()
                 .fork(200, kSaveSite, 64 * kMiB, 20 * kMiB)
                 .memory(kServerPid, kMiB, kMiB)
                 .tree();
    auto results = check_growth(
        diff::diff_runs(t, t),
        {.max_cow_growth_percent = 1, .max_rss_growth_percent = 1, .max_processes_growth = 0});
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(results[0].name, "max-cow-growth");
    EXPECT_EQ(results[1].name, "max-rss-growth");
    EXPECT_EQ(results[2].name, "max-processes-growth");
    for (const auto& r : results) EXPECT_EQ(r.verdict, Verdict::kMet) << r.summary;
}

}  // namespace
}  // namespace cowtrace::check

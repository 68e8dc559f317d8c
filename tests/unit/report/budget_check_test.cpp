#include "check/budget_check.hpp"

#include <gtest/gtest.h>

#include "tree_fixture.hpp"

namespace cowtrace::check {
namespace {

using report::testing::kMiB;
using report::testing::kMs;
using report::testing::TreeFixture;

BudgetResult only(const model::ProcessTree& tree, const Budgets& b) {
    auto results = check_budgets(tree, b);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? BudgetResult{} : results.front();
}

TreeFixture server_with_forks() {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t big = f.child(root, 101, 100 * kMs, 900 * kMs, {0xa1});
    size_t small = f.child(root, 102, 200 * kMs, 300 * kMs, {0xb2});
    f.episode(big, 64 * kMiB, 24 * kMiB, 20 * kMiB);
    f.episode(small, 4 * kMiB, 3 * kMiB, 3 * kMiB);
    f.tree.symbols[{100, 0xa1}] = "rdbSaveBackground+0x4d (server)";
    return f;
}

TEST(BudgetCheck, MaxCowIsTheLargestPeakOfAnyEpisode) {
    TreeFixture f = server_with_forks();
    BudgetResult r = only(f.tree, {.max_cow_bytes = 24 * kMiB});
    EXPECT_EQ(r.verdict, Verdict::kMet) << r.summary;
    r = only(f.tree, {.max_cow_bytes = 24 * kMiB - 1});
    EXPECT_EQ(r.verdict, Verdict::kExceeded);
    EXPECT_EQ(r.exit_bit, kExitCowBudget);
    EXPECT_NE(r.summary.find("but pid 101 copied 24.0 MiB"), std::string::npos) << r.summary;
    ASSERT_EQ(r.offenders.size(), 1u);
    EXPECT_NE(r.offenders[0].find("rdbSaveBackground+0x4d (server)"), std::string::npos)
        << r.offenders[0];
    EXPECT_NE(r.offenders[0].find("`server`"), std::string::npos) << r.offenders[0];
}

// Observed from outside (attach), how a child was created is not known: the offender line says
// where, not "from unknown()".
TEST(BudgetCheck, AnOffenderOfUnknownCreationIsNotSaidToComeFromUnknownParentheses) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t child = f.child(root, 101, 100 * kMs, 900 * kMs, {}, wire::CreateHow::kUnknown);
    f.episode(child, 64 * kMiB, 24 * kMiB, 20 * kMiB);
    BudgetResult r = only(f.tree, {.max_cow_bytes = kMiB});
    ASSERT_EQ(r.offenders.size(), 1u);
    EXPECT_EQ(r.offenders[0].find("unknown()"), std::string::npos) << r.offenders[0];
    EXPECT_NE(r.offenders[0].find("created in pid 100 at"), std::string::npos) << r.offenders[0];
}

// Forks alive at the same time: their copies add up while both hold them. The sum of every
// fork's peak (27 + 10 MiB here, plus 3 of a fork long gone) is not what they took at once.
TEST(BudgetCheck, MaxCowConcurrentIsWhatTheForksAliveTogetherHeld) {
    TreeFixture f = server_with_forks();
    size_t third = f.child(0, 104, 400 * kMs, 800 * kMs, {0xc3});
    f.episode(third, 32 * kMiB, 10 * kMiB, 10 * kMiB);  // samples at 600 and 800 ms
    // At 600 ms: pid 101 holds 24 MiB (its sample at 500 ms), pid 104 10 MiB.
    BudgetResult r = only(f.tree, {.max_cow_concurrent_bytes = 34 * kMiB});
    EXPECT_EQ(r.verdict, Verdict::kMet) << r.summary;
    EXPECT_NE(r.summary.find("at most 34.0 MiB was copied at once, at 0.600s"), std::string::npos)
        << r.summary;
    r = only(f.tree, {.max_cow_concurrent_bytes = 33 * kMiB});
    EXPECT_EQ(r.verdict, Verdict::kExceeded);
    EXPECT_EQ(r.exit_bit, kExitCowBudget);
    EXPECT_NE(r.summary.find("held 34.0 MiB at 0.600s (2 forks alive then)"), std::string::npos)
        << r.summary;
    ASSERT_EQ(r.offenders.size(), 2u);
    EXPECT_EQ(r.offenders[0].rfind("24.0 MiB then; pid 101", 0), 0u) << r.offenders[0];
    EXPECT_EQ(r.offenders[1].rfind("10.0 MiB then; pid 104", 0), 0u) << r.offenders[1];
    // Each fork alone is within 25 MiB: only the concurrent budget sees the two together.
    EXPECT_EQ(only(f.tree, {.max_cow_bytes = 25 * kMiB}).verdict, Verdict::kMet);
}

TEST(BudgetCheck, OffendersComeWorstFirst) {
    TreeFixture f = server_with_forks();
    BudgetResult r = only(f.tree, {.max_cow_bytes = 1 * kMiB});
    ASSERT_EQ(r.offenders.size(), 2u);
    EXPECT_EQ(r.offenders[0].rfind("pid 101", 0), 0u) << r.offenders[0];
    EXPECT_EQ(r.offenders[1].rfind("pid 102", 0), 0u) << r.offenders[1];
}

TEST(BudgetCheck, CowRatioIsPeakOverSharedAndIgnoresEpisodesThatSharedNothing) {
    TreeFixture f = server_with_forks();
    size_t none = f.child(0, 103, 400 * kMs, 500 * kMs);
    f.episode(none, 0, 0, 0);
    // 3 of 4 MiB is 75%, the worst; 24 of 64 is 37.5%.
    EXPECT_EQ(only(f.tree, {.max_cow_ratio_percent = 75}).verdict, Verdict::kMet);
    BudgetResult r = only(f.tree, {.max_cow_ratio_percent = 40});
    EXPECT_EQ(r.verdict, Verdict::kExceeded);
    EXPECT_NE(r.summary.find("pid 102 copied 75.0%"), std::string::npos) << r.summary;
    EXPECT_EQ(r.offenders.size(), 1u);
}

TEST(BudgetCheck, WithoutCensusCowBudgetsCannotPass) {
    TreeFixture f = server_with_forks();
    f.tree.census_mode = model::CensusMode::kOff;
    BudgetResult r = only(f.tree, {.max_cow_bytes = 1024 * kMiB});
    EXPECT_EQ(r.verdict, Verdict::kNotMeasured);
    EXPECT_TRUE(r.failed());
    EXPECT_EQ(only(f.tree, {.max_rss_bytes = kMiB}).verdict, Verdict::kNotMeasured)
        << "no memory samples";
}

TEST(BudgetCheck, TreePssIsTheSumAtOneInstant) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t c = f.child(root, 101, 10 * kMs, 500 * kMs);
    f.memory(root, 100 * kMs, 50 * kMiB, 30 * kMiB);
    f.memory(c, 110 * kMs, 40 * kMiB, 20 * kMiB);
    f.memory(c, 600 * kMs, 40 * kMiB, 20 * kMiB);  // after the child's end: late sample
    EXPECT_EQ(only(f.tree, {.max_tree_pss_bytes = 50 * kMiB}).verdict, Verdict::kMet);
    BudgetResult r = only(f.tree, {.max_tree_pss_bytes = 50 * kMiB - 1});
    EXPECT_EQ(r.verdict, Verdict::kExceeded);
    EXPECT_EQ(r.exit_bit, kExitMemoryBudget);
    ASSERT_EQ(r.offenders.size(), 2u);
    EXPECT_NE(r.offenders[0].find("pid 100"), std::string::npos);
    EXPECT_EQ(only(f.tree, {.max_rss_bytes = 50 * kMiB}).verdict, Verdict::kMet);
    EXPECT_EQ(only(f.tree, {.max_rss_bytes = 40 * kMiB}).verdict, Verdict::kExceeded);
}

TEST(BudgetCheck, LeftoversAreDescendantsAliveAfterTheCommandEnded) {
    TreeFixture f;
    size_t root = f.root(100, {"launcher"}, 400 * kMs);
    size_t early = f.child(root, 101, 10 * kMs, 300 * kMs);
    size_t late = f.child(root, 102, 20 * kMs, 700 * kMs);
    f.child(late, 103, 30 * kMs, std::nullopt);
    (void)early;
    BudgetResult r = only(f.tree, {.no_leftover_processes = true});
    EXPECT_EQ(r.verdict, Verdict::kExceeded);
    EXPECT_EQ(r.exit_bit, kExitProcessBudget);
    ASSERT_EQ(r.offenders.size(), 2u);
    std::string all = r.offenders[0] + r.offenders[1];
    EXPECT_NE(all.find("pid 102"), std::string::npos);
    EXPECT_NE(all.find("pid 103"), std::string::npos);
    EXPECT_EQ(all.find("pid 101"), std::string::npos);
    EXPECT_NE(all.find("still running"), std::string::npos);
}

TEST(BudgetCheck, LeftoversNeedACommandThatEnded) {
    TreeFixture f;
    f.root(100, {"launcher"});
    f.tree.processes[0].set_end_ns(std::nullopt);
    f.tree.processes[0].still_running = true;
    EXPECT_EQ(only(f.tree, {.no_leftover_processes = true}).verdict, Verdict::kNotMeasured);
    TreeFixture record_mode;
    EXPECT_EQ(only(record_mode.tree, {.no_leftover_processes = true}).verdict,
              Verdict::kNotMeasured);
}

TEST(BudgetCheck, ExitStatusIsTheOrOfFailedKinds) {
    TreeFixture f = server_with_forks();
    f.memory(0, 10 * kMs, 90 * kMiB, 90 * kMiB);
    auto results =
        check_budgets(f.tree, {.max_cow_bytes = kMiB, .max_rss_bytes = kMiB, .max_processes = 3});
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(budget_exit_status(results), kExitCowBudget | kExitMemoryBudget);
    results = check_budgets(f.tree, {.max_processes = 2});
    EXPECT_EQ(budget_exit_status(results), kExitProcessBudget);
    EXPECT_EQ(budget_exit_status(check_budgets(f.tree, {.max_processes = 3})), 0);
}

}  // namespace
}  // namespace cowtrace::check

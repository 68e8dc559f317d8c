// `cowtrace check --format json`: the verdicts of the text report, for scripts.
#include "check/budget_json.hpp"

#include <gtest/gtest.h>

namespace cowtrace::check {
namespace {

TEST(BudgetJson, EachResultHasItsVerdictAndTheStatusAddsUp) {
    std::vector<BudgetResult> results;
    results.push_back(
        {"max-cow-growth", "10%", Verdict::kExceeded, "grew", {"pid 3 copied"}, kExitCowBudget});
    results.push_back({"max-rss", "1.0 GiB", Verdict::kMet, "fine", {}, kExitMemoryBudget});
    results.push_back(
        {"max-processes-growth", "0", Verdict::kNotMeasured, "cannot", {}, kExitProcessBudget});
    nlohmann::json j = results_to_json(results, {"new.trace", "old.trace"});
    EXPECT_EQ(j["trace"], "new.trace");
    EXPECT_EQ(j["baseline"], "old.trace");
    EXPECT_EQ(j["status"], kExitCowBudget | kExitProcessBudget);
    EXPECT_EQ(j["passed"], false);
    ASSERT_EQ(j["results"].size(), 3u);
    EXPECT_EQ(j["results"][0]["verdict"], "exceeded");
    EXPECT_EQ(j["results"][0]["option"], "--max-cow-growth 10%");
    EXPECT_EQ(j["results"][0]["offenders"][0], "pid 3 copied");
    EXPECT_EQ(j["results"][1]["verdict"], "met");
    EXPECT_EQ(j["results"][2]["verdict"], "not_measured");
}

TEST(BudgetJson, WithoutBaselineItIsNull) {
    nlohmann::json j = results_to_json({}, {"t.trace", ""});
    EXPECT_TRUE(j["baseline"].is_null());
    EXPECT_EQ(j["passed"], true);
    EXPECT_EQ(j["status"], 0);
}

}  // namespace
}  // namespace cowtrace::check

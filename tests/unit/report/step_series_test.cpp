#include "report/step_series.hpp"

#include <gtest/gtest.h>

namespace cowtrace::report {
namespace {

bool operator==(const StepPoint& a, const StepPoint& b) {
    return a.t_ns == b.t_ns && a.value == b.value;
}

TEST(StepSum, OverlappingStepsAddUpAndDropWhenEachEnds) {
    StepSum sum;
    sum.add({{10, 5}, {20, 7}, {40, 0}});
    sum.add({{15, 100}, {30, 0}});
    std::vector<StepPoint> got = sum.points();
    std::vector<StepPoint> want{{10, 5}, {15, 105}, {20, 107}, {30, 7}, {40, 0}};
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(got[i] == want[i]) << i;
}

TEST(StepSum, StepsOneAfterTheOtherNeverAddUp) {
    StepSum sum;
    for (uint64_t k = 0; k < 1000; ++k) sum.add({{k * 10, 8}, {k * 10 + 5, 0}});
    uint64_t highest = 0;
    for (const StepPoint& p : sum.points()) highest = std::max(highest, p.value);
    EXPECT_EQ(highest, 8u);
}

TEST(Thinned, KeepsThePeakAndTheLastValueWithinTheBudget) {
    std::vector<StepPoint> steps;
    for (uint64_t k = 0; k < 100000; ++k) steps.push_back({k, k % 97});
    steps[54321].value = 5000;
    std::vector<StepPoint> got = thinned(steps, 100);
    EXPECT_LE(got.size(), 200u);
    uint64_t highest = 0;
    for (const StepPoint& p : got) highest = std::max(highest, p.value);
    EXPECT_EQ(highest, 5000u);
    EXPECT_TRUE(got.back() == steps.back());
    for (size_t i = 1; i < got.size(); ++i) EXPECT_LT(got[i - 1].t_ns, got[i].t_ns);
}

TEST(Thinned, ShortSeriesAreLeftAlone) {
    std::vector<StepPoint> steps{{1, 2}, {3, 4}};
    EXPECT_EQ(thinned(steps, 100).size(), 2u);
}

}  // namespace
}  // namespace cowtrace::report

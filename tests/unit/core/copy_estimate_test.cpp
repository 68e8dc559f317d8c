// The estimate between exact censuses: its error bound's arithmetic, and on a real fork (this
// test forks itself) an estimate that lies within its stated bound of the exact census taken at
// the same moment, with a bound within 1 % of the memory shared at fork.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <random>
#include <string>

#include "core/copy_estimate.hpp"
#include "core/cow_census.hpp"
#include "core/pagemap.hpp"

namespace cowtrace {
namespace {

constexpr size_t kPage = 4096;

TEST(CopiedErrorPages, IsZeroWhenEveryPageWasRead) {
    EXPECT_EQ(copied_error_pages(1000, 1000, 300), 0u);
    EXPECT_EQ(copied_error_pages(1000, 5000, 300), 0u);
}

TEST(CopiedErrorPages, MatchesTheNormalApproximationForLargePopulations) {
    // 10 % of 1,000 sampled pages copied, out of a million: 1.96·√(0.1·0.9/1000)·10⁶ ≈ 18,600.
    double bound = static_cast<double>(copied_error_pages(1'000'000, 1000, 100));
    EXPECT_NEAR(bound, 18'600, 1'000);
}

TEST(CopiedErrorPages, ShrinksWithTheSampleAndIsLargestAtHalf) {
    EXPECT_LT(copied_error_pages(1'000'000, 4000, 400), copied_error_pages(1'000'000, 1000, 100));
    EXPECT_LT(copied_error_pages(1'000'000, 1000, 10), copied_error_pages(1'000'000, 1000, 500));
    // Nothing copied in the sample still leaves a bound above zero.
    EXPECT_GT(copied_error_pages(1'000'000, 1000, 0), 0u);
}

// A child forked from this test, holding the pages it shares with us until told to go.
class ForkedChild {
public:
    ForkedChild() {
        if (pipe(go_) != 0) return;
        pid_ = fork();
        if (pid_ == 0) {
            close(go_[1]);
            char c;
            ssize_t ignored = read(go_[0], &c, 1);  // this memory stays as it was at fork
            (void)ignored;
            _exit(0);
        }
        close(go_[0]);
    }
    ~ForkedChild() {
        close(go_[1]);
        if (pid_ > 0) waitpid(pid_, nullptr, 0);
    }
    pid_t pid() const { return pid_; }

private:
    int go_[2] = {-1, -1};
    pid_t pid_ = -1;
};

void write_random_pages(char* area, size_t pages, size_t count, std::mt19937_64& rng) {
    std::uniform_int_distribution<size_t> pick(0, pages - 1);
    for (size_t i = 0; i < count; ++i) area[pick(rng) * kPage] ^= 1;
}

// within: whether the estimate lay within its 95 % bound of the count that follows it.
void estimate_within_bound(CensusMode mode, uint64_t seed, bool& within) {
    within = false;
    constexpr size_t kPages = 16384;  // 64 MiB
    auto* area = static_cast<char*>(
        mmap(nullptr, kPages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(area, MAP_FAILED);
    madvise(area, kPages * kPage, MADV_NOHUGEPAGE);
    for (size_t i = 0; i < kPages; ++i) area[i * kPage] = 1;
    ForkedChild child;
    ASSERT_GT(child.pid(), 0);
    pagemap::PagemapReader child_pm, parent_pm;
    std::string error;
    ASSERT_TRUE(child_pm.open(child.pid(), error)) << error;
    ASSERT_TRUE(parent_pm.open(getpid(), error)) << error;
    EpisodeBaseline baseline;
    ZeroPage zero = learn_zero_page();
    ASSERT_TRUE(baseline.take(child.pid(), child_pm, mode, zero.pfn, {}, error)) << error;
    baseline.add_parent(parent_pm);

    std::mt19937_64 rng(seed);
    write_random_pages(area, kPages, kPages / 10, rng);  // the parent copies ~10 %
    CensusTotals exact;
    ASSERT_TRUE(baseline.census(child.pid(), child_pm, parent_pm, exact));
    CopyEstimator estimator;
    estimator.draw_panel(baseline, exact, 2048, rng);
    ASSERT_TRUE(estimator.has_panel());

    write_random_pages(area, kPages, kPages * 3 / 100, rng);  // then ~3 % more
    CopyEstimate estimate;
    ASSERT_TRUE(estimator.estimate(baseline, child_pm, parent_pm, 2048, estimate));
    CensusTotals now;
    ASSERT_TRUE(baseline.census(child.pid(), child_pm, parent_pm, now));

    double diff = std::fabs(static_cast<double>(estimate.totals.copied_pages) -
                            static_cast<double>(now.copied_pages));
    within = diff <= static_cast<double>(estimate.copied_error_pages);
    if (!within) {
        std::cerr << "seed " << seed << ": estimated " << estimate.totals.copied_pages << " ± "
                  << estimate.copied_error_pages << ", counted " << now.copied_pages << "\n";
    }
    EXPECT_GT(estimate.totals.copied_pages, exact.copied_pages);  // it saw the new copies
    EXPECT_LE(estimate.copied_error_pages, baseline.shared_pages_at_fork() / 100);
    EXPECT_EQ(estimate.pages_read, 2048u);
    if (mode == CensusMode::kExact) {
        EXPECT_EQ(estimate.totals.copied_by_child_pages, now.copied_by_child_pages);
    }
    munmap(area, kPages * kPage);
}

// A 95 % bound is missed one time in twenty by design, and the machine's own page reclaim can
// move the truth between the estimate and the count (seen once under ASan in CI: 149 pages off,
// bound 139): a miss must not happen twice in two independent draws.
void estimate_within_bound_twice_at_most_once(CensusMode mode) {
    bool within = false;
    estimate_within_bound(mode, 42, within);
    if (within) return;
    estimate_within_bound(mode, 4242, within);
    EXPECT_TRUE(within) << "both draws missed their 95 % bound (figures above)";
}

TEST(CopyEstimator, EstimateLiesWithinItsBoundOfTheExactCensusUnprivileged) {
    estimate_within_bound_twice_at_most_once(CensusMode::kUnprivileged);
}

TEST(CopyEstimator, EstimateLiesWithinItsBoundOfTheExactCensusExact) {
    if (!pagemap::pfns_visible()) GTEST_SKIP() << "frame numbers need root";
    estimate_within_bound_twice_at_most_once(CensusMode::kExact);
}

}  // namespace
}  // namespace cowtrace

// The census of sparse memory, on a real fork (this test forks itself): pages a few holes apart
// are read together and the child's new pages are found by one filtered PAGEMAP_SCAN per mapping,
// which must count exactly what reading every page would. The test process's own activity (its
// stack, gtest's heap) copies a few pages of its own: hence figures compared between two censuses,
// and a small slack.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "core/cow_census.hpp"
#include "core/pagemap.hpp"

namespace cowtrace {
namespace {

constexpr size_t kPage = 4096;
constexpr uint64_t kSlackPages = 64;

char* anonymous_area(size_t pages) {
    void* p =
        mmap(nullptr, pages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    madvise(p, pages * kPage, MADV_NOHUGEPAGE);
    return static_cast<char*>(p);
}

uint64_t pages_in(const std::vector<pagemap::PageRun>& runs) {
    uint64_t n = 0;
    for (const auto& r : runs) n += (r.end - r.start) / kPage;
    return n;
}

TEST(PrivateAnonRuns, FindWrittenPagesButNotHolesOrTheZeroPage) {
    constexpr size_t kPages = 1024;
    char* area = anonymous_area(kPages);
    ASSERT_NE(area, nullptr);
    for (size_t i = 0; i < 10; ++i) area[i * kPage] = 1;
    area[100 * kPage] = 1;
    for (size_t i = 500; i < 510; ++i) area[i * kPage] = 1;
    volatile char sink = 0;
    for (size_t i = 200; i < 210; ++i) sink = sink + area[i * kPage];  // the zero page
    (void)sink;
    pagemap::PagemapReader pm;
    std::string error;
    ASSERT_TRUE(pm.open(getpid(), error)) << error;
    std::vector<pagemap::PageRun> runs;
    auto start = reinterpret_cast<uint64_t>(area);
    if (!pm.private_anon_runs(start, start + kPages * kPage, runs)) {
        munmap(area, kPages * kPage);
        GTEST_SKIP() << "no PAGEMAP_SCAN in this kernel";
    }
    // Some kernels (VMs booted with pvm_no_zero_page=1) give every read fault a page of its
    // own, mapped once: then the pages read are private pages like the written ones.
    uint64_t read_page = 0;
    ASSERT_TRUE(pm.read_one(start + 200 * kPage, read_page));
    bool zero_page = !pagemap::exclusive(read_page);
    EXPECT_EQ(pages_in(runs), zero_page ? 21u : 31u);
    ASSERT_EQ(runs.size(), zero_page ? 3u : 4u);
    EXPECT_EQ(runs[1].start, start + 100 * kPage);
    if (!zero_page) {
        EXPECT_EQ(runs[2].start, start + 200 * kPage);
    }
    EXPECT_EQ(runs.back().end, start + 510 * kPage);
    munmap(area, kPages * kPage);
}

// The child's writes, not instrumented: a sanitizer's check of each write reads its shadow
// memory, and on a kernel without a zero page (every read fault gets a page of its own) each
// such read is a new page of the child's that the census rightly counts (ASan: 200 new pages
// for 100 writes).
__attribute__((no_sanitize("address", "thread"))) void write_pages(char* area, size_t first,
                                                                   size_t step, size_t count) {
    for (size_t i = 0; i < count; ++i) area[(first + i * step) * kPage] = 2;
}

// A child that writes `count` pages of area at stride `step` from `first` when told, says so,
// then waits to be let go.
class WritingChild {
public:
    WritingChild(char* area, size_t first, size_t step, size_t count) {
        if (pipe(go_) != 0 || pipe(done_) != 0) return;
        pid_ = fork();
        if (pid_ == 0) {
            close(go_[1]);
            close(done_[0]);
            char c;
            if (read(go_[0], &c, 1) == 1) {
                write_pages(area, first, step, count);
                ssize_t ignored = write(done_[1], &c, 1);
                (void)ignored;
                ignored = read(go_[0], &c, 1);
                (void)ignored;
            }
            _exit(0);
        }
        close(go_[0]);
        close(done_[1]);
    }
    ~WritingChild() {
        close(go_[1]);
        close(done_[0]);
        if (pid_ > 0) waitpid(pid_, nullptr, 0);
    }
    pid_t pid() const { return pid_; }
    bool write_now() {
        char c = 'w';
        return write(go_[1], &c, 1) == 1 && read(done_[0], &c, 1) == 1;
    }

private:
    int go_[2] = {-1, -1};
    int done_[2] = {-1, -1};
    pid_t pid_ = -1;
};

// 64 MiB with one page in 16 written (1,024 runs), and a child forked over it that writes 100
// of the holes (pages 8, 8 + 16·3, ...) when told: new pages of its own.
class SparseEpisode : public ::testing::Test {
protected:
    static constexpr size_t kPages = 16384;
    static constexpr size_t kStride = 16;

    void SetUp() override {
        area_ = anonymous_area(kPages);
        ASSERT_NE(area_, nullptr);
        for (size_t i = 0; i < kPages; i += kStride) area_[i * kPage] = 1;
        child_ = std::make_unique<WritingChild>(area_, 8, 3 * kStride, 100);
        ASSERT_GT(child_->pid(), 0);
        exact_ = pagemap::pfns_visible();
    }
    void TearDown() override {
        child_.reset();
        if (area_ != nullptr) munmap(area_, kPages * kPage);
    }
    // Reads the episode's baseline (the child's side, then the parent's).
    void take_baseline(bool force_unprivileged = false) {
        std::string error;
        ASSERT_TRUE(child_pm_.open(child_->pid(), error)) << error;
        ASSERT_TRUE(parent_pm_.open(getpid(), error)) << error;
        CensusMode mode =
            exact_ && !force_unprivileged ? CensusMode::kExact : CensusMode::kUnprivileged;
        ASSERT_TRUE(
            baseline_.take(child_->pid(), child_pm_, mode, learn_zero_page().pfn, {}, error))
            << error;
        baseline_.add_parent(parent_pm_);
    }
    bool census(CensusTotals& out) {
        return baseline_.census(child_->pid(), child_pm_, parent_pm_, out);
    }

    // The parent copies 300 of its written pages (from page 32, one in three runs).
    void parent_copies() {
        for (size_t k = 0; k < 300; ++k) area_[(32 + k * 3 * kStride) * kPage] = 4;
    }

    char* area_ = nullptr;
    std::unique_ptr<WritingChild> child_;
    bool exact_ = false;
    pagemap::PagemapReader child_pm_, parent_pm_;
    EpisodeBaseline baseline_;
};

TEST_F(SparseEpisode, CountsEveryCopyAndEveryNewPageOfTheChild) {
    // Two early copies by the parent, made before the baseline: they show as copies too.
    area_[0] = 3;
    area_[kStride * kPage] = 3;
    take_baseline();
    EXPECT_GE(baseline_.shared_pages_at_fork(), kPages / kStride);

    ASSERT_TRUE(child_->write_now());
    CensusTotals before;
    ASSERT_TRUE(census(before));
    EXPECT_GE(before.copied_pages, 2u);
    EXPECT_GE(before.child_new_pages, 100u);
    EXPECT_LE(before.child_new_pages, 100u + kSlackPages);

    parent_copies();
    CensusTotals after;
    ASSERT_TRUE(census(after));
    EXPECT_GE(after.copied_pages - before.copied_pages, 300u);
    EXPECT_LE(after.copied_pages - before.copied_pages, 300u + kSlackPages);
    if (exact_) {
        EXPECT_GE(after.copied_by_parent_pages - before.copied_by_parent_pages, 300u);
        EXPECT_LE(after.copied_by_parent_pages - before.copied_by_parent_pages, 300u + kSlackPages);
    }
    EXPECT_EQ(after.child_new_pages, before.child_new_pages);  // the child only waited
}

// Without frame numbers, a census whose child began to exit before the parent's side was read
// would count every page the two shared as the parent's copy (the child's unmapping leaves the
// parent alone on them): such a census stands for nothing. With frame numbers it still holds.
TEST_F(SparseEpisode, AnUnprivilegedCensusNeedsTheChildAliveAfterTheParentsRead) {
    take_baseline(/*force_unprivileged=*/true);
    EXPECT_TRUE(baseline_.child_alive_throughout(child_pm_));
    pid_t pid = child_->pid();
    child_.reset();  // lets it go, and reaps it
    EXPECT_FALSE(baseline_.child_alive_throughout(child_pm_));
    CensusTotals after;
    EXPECT_FALSE(baseline_.census(pid, child_pm_, parent_pm_, after));
    EXPECT_TRUE(after.child_gone);
}

TEST_F(SparseEpisode, AnExactCensusDoesNotAskWhetherTheChildLives) {
    if (!exact_) GTEST_SKIP() << "frame numbers are not visible to this user";
    take_baseline();
    child_.reset();
    EXPECT_TRUE(baseline_.child_alive_throughout(child_pm_));
}

// A census read in slices (the sampler's way for an episode too large for one tick) counts
// what one census counts, and leaves the same pages marked still shared for the next panel.
TEST_F(SparseEpisode, ASlicedCensusCountsWhatOneCensusCounts) {
    take_baseline();
    ASSERT_TRUE(child_->write_now());
    parent_copies();
    CensusTotals whole;
    ASSERT_TRUE(census(whole));
    uint64_t shared_after_whole = baseline_.shared_at_last_census();
    SlicedCensus sliced;
    int slices = 0;
    SliceOutcome outcome = SliceOutcome::kMore;
    while (outcome == SliceOutcome::kMore && slices < 100000) {
        outcome = baseline_.census_slice(child_->pid(), child_pm_, parent_pm_, sliced, 64);
        ++slices;
    }
    ASSERT_EQ(outcome, SliceOutcome::kDone);
    EXPECT_GT(slices, 10);
    const CensusTotals& parts = sliced.totals;
    auto near = [](uint64_t a, uint64_t b) { return (a > b ? a - b : b - a) <= kSlackPages; };
    EXPECT_TRUE(near(parts.copied_pages, whole.copied_pages))
        << parts.copied_pages << " against " << whole.copied_pages;
    EXPECT_GE(parts.copied_pages, 300u);
    EXPECT_TRUE(near(parts.shared_pages, whole.shared_pages))
        << parts.shared_pages << " against " << whole.shared_pages;
    EXPECT_TRUE(near(parts.copied_by_parent_pages, whole.copied_by_parent_pages));
    EXPECT_TRUE(near(parts.copied_by_child_pages, whole.copied_by_child_pages));
    EXPECT_EQ(parts.child_new_pages, whole.child_new_pages);
    ASSERT_EQ(parts.regions.size(), whole.regions.size());
    uint64_t region_copies = 0;
    for (const RegionTotals& r : parts.regions) region_copies += r.copied_pages;
    EXPECT_EQ(region_copies, parts.copied_pages);
    EXPECT_TRUE(near(baseline_.shared_at_last_census(), shared_after_whole));
}

}  // namespace
}  // namespace cowtrace

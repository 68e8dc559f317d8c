#include "copy_estimate.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>

namespace cowtrace {

namespace {

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// population × hits / n, rounded.
uint64_t scaled(uint64_t population, size_t hits, size_t n) {
    if (n == 0) return 0;
    return static_cast<uint64_t>(std::llround(static_cast<double>(population) *
                                              static_cast<double>(hits) / static_cast<double>(n)));
}

}  // namespace

uint64_t copied_error_pages(uint64_t population, size_t n, size_t hits) {
    if (n == 0 || population == 0) return population;
    if (n >= population) return 0;  // every page was read
    constexpr double z = 1.96;
    double n_adj = static_cast<double>(n) + z * z;
    double p = (static_cast<double>(hits) + z * z / 2) / n_adj;
    double fpc = (static_cast<double>(population) - static_cast<double>(n)) /
                 (static_cast<double>(population) - 1);
    double half = z * std::sqrt(p * (1 - p) / n_adj * fpc) * static_cast<double>(population);
    return static_cast<uint64_t>(std::ceil(half));
}

void CopyEstimator::draw_panel(const EpisodeBaseline& baseline, const CensusTotals& exact,
                               size_t panel_size, std::mt19937_64& rng) {
    panel_.clear();
    exact_ = exact;
    shared_at_exact_ = baseline.shared_at_last_census();
    uint64_t shared = shared_at_exact_;
    if (shared == 0 || panel_size == 0) return;
    size_t n = static_cast<size_t>(std::min<uint64_t>(shared, panel_size));
    panel_.reserve(n);
    // One page at random in each of n equal strata of the shared pages, in address order.
    for (size_t k = 0; k < n; ++k) {
        uint64_t lo = shared * k / n, hi = shared * (k + 1) / n;
        std::uniform_int_distribution<uint64_t> pick(lo, hi - 1);
        panel_.push_back(baseline.shared_page(pick(rng)));
    }
}

bool CopyEstimator::estimate(const EpisodeBaseline& baseline, pagemap::PagemapReader& child_pm,
                             pagemap::PagemapReader& parent_pm, size_t max_pages,
                             CopyEstimate& out) {
    uint64_t t0 = now_ns();
    out = CopyEstimate{};
    size_t n = std::min(panel_.size(), std::max<size_t>(max_pages, 1));
    size_t hits[8] = {};  // by PageFate
    size_t read = 0;
    bool parent_gone = false;
    for (size_t j = 0; j < n; ++j) {
        // An even spread over the panel keeps the strata's order when fewer pages are read.
        const EpisodeBaseline::TrackedPage& page = panel_[j * panel_.size() / n];
        uint64_t c = 0, p = 0;
        if (!child_pm.read_one(page.address, c)) return false;
        if (!parent_gone && !parent_pm.read_one(page.address, p)) parent_gone = true;
        if (parent_gone) p = 0;
        ++hits[static_cast<size_t>(baseline.fate_of(page, c, p))];
        ++read;
    }
    if (!baseline.child_alive_throughout(child_pm)) return false;
    auto count = [&](PageFate f) { return hits[static_cast<size_t>(f)]; };
    uint64_t s = shared_at_exact_;
    size_t copied = count(PageFate::kCopiedByParent) + count(PageFate::kCopiedByChild) +
                    count(PageFate::kCopied);
    CensusTotals& t = out.totals;
    t = exact_;
    t.shared_pages = scaled(s, count(PageFate::kShared), read);
    t.copied_pages = exact_.copied_pages + scaled(s, copied, read);
    t.copied_by_parent_pages =
        exact_.copied_by_parent_pages + scaled(s, count(PageFate::kCopiedByParent), read);
    t.copied_by_child_pages =
        exact_.copied_by_child_pages + scaled(s, count(PageFate::kCopiedByChild), read);
    t.retained_pages = exact_.retained_pages + scaled(s, count(PageFate::kRetained), read);
    t.parent_gone = parent_gone;
    out.copied_error_pages = copied_error_pages(s, read, copied);
    out.pages_read = read;
    out.cost_ns = now_ns() - t0;
    t.cost_ns = out.cost_ns;
    return true;
}

}  // namespace cowtrace

// Between exact censuses, an episode's copy-on-write figures estimated from a sample of its
// pages, so that the timeline keeps its interval whatever the process's size.
//
// The sample is a panel: a stratified random draw (one page per equal stratum, in address
// order) among the pages that were still shared at the last exact census, fixed until the next
// one. A panel page that is copied now was copied since that census, so
//   copied(now) ≈ copied(last census) + shared(last census) × (copied panel pages / panel size)
// and likewise for the parent/child split and retained pages. The error is that of the one
// fraction (binomial, finite population), stated at 95 % with the Agresti–Coull adjustment, so
// that it scales with what was still shared and what changed since, not with the process.
// Measurements behind the design: /work/shared/research/sampling-and-outside-baseline.md §3, §8.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "cow_census.hpp"
#include "pagemap.hpp"

namespace cowtrace {

struct CopyEstimate {
    CensusTotals totals;              // estimated figures (regions: as at the last census)
    uint64_t copied_error_pages = 0;  // half-width of the 95 % interval of totals.copied_pages
    size_t pages_read = 0;            // panel pages read (each on both sides)
    uint64_t cost_ns = 0;
};

class CopyEstimator {
public:
    // After an exact census (or the baseline: exact is then all zeros): a new panel of at most
    // panel_size pages among those baseline says are still shared.
    void draw_panel(const EpisodeBaseline& baseline, const CensusTotals& exact, size_t panel_size,
                    std::mt19937_64& rng);

    bool has_panel() const { return !panel_.empty(); }
    size_t panel_size() const { return panel_.size(); }

    // Reads up to max_pages of the panel (an evenly spread subset when fewer than the panel) on
    // both sides and estimates. False when the child's address space is gone.
    bool estimate(const EpisodeBaseline& baseline, pagemap::PagemapReader& child_pm,
                  pagemap::PagemapReader& parent_pm, size_t max_pages, CopyEstimate& out);

private:
    std::vector<EpisodeBaseline::TrackedPage> panel_;  // address order
    CensusTotals exact_;                               // the census the panel was drawn at
    uint64_t shared_at_exact_ = 0;
};

// The half-width, in pages, of the 95 % interval of population × (hits / n) for a simple random
// sample of n from population (Agresti–Coull, with the finite population correction).
uint64_t copied_error_pages(uint64_t population, size_t n, size_t hits);

}  // namespace cowtrace

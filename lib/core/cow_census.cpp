#include "cow_census.hpp"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>

#include "kpageflags.hpp"
#include "proc_maps.hpp"

namespace cowtrace {

namespace {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kPresentAnonymous = 1ull << pagemap::kPresentBit;
// Pages read together when this few lie between them: a pread costs about a microsecond, an
// unpopulated page's entry a few nanoseconds (census_bench, sparse layout).
constexpr uint64_t kMergedHolePages = 256;

using pagemap::anon_present;
using pagemap::exclusive;
using pagemap::PageRun;
using pagemap::pfn;

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Mappings whose pages fork may share copy-on-write: private, and not the kernel's own.
bool may_hold_cow_pages(const Mapping& m) {
    return !m.shared && !m.is_special();
}

}  // namespace

PageFate classify_exact(uint64_t b, uint64_t bp, uint64_t c, uint64_t p, uint64_t zero_pfn,
                        bool child_likely, bool early_side_unknown) {
    bool was_shared = anon_present(b) && (zero_pfn == 0 || pfn(b) != zero_pfn);
    if (!was_shared) {
        bool owns_new = anon_present(c) && (zero_pfn == 0 || pfn(c) != zero_pfn) &&
                        !(anon_present(b) && pfn(c) == pfn(b));
        return owns_new ? PageFate::kChildNew : PageFate::kNotShared;
    }
    if (!anon_present(c)) return PageFate::kGone;
    if (anon_present(p) && pfn(p) == pfn(c)) return PageFate::kShared;
    if (!anon_present(p)) {
        // Only the child maps this address now. The fork-time frame lives on because of the
        // child; a frame the child made itself is its copy.
        return pfn(c) == pfn(b) ? PageFate::kRetained : PageFate::kCopiedByChild;
    }
    // Two frames. If they were already two when the baseline was read, the frames cannot say
    // who copied: the place decides (the child writes little before its baseline).
    bool copied_before_baseline = anon_present(bp) && pfn(bp) != pfn(b);
    if (copied_before_baseline) {
        if (early_side_unknown) return PageFate::kCopied;
        return child_likely ? PageFate::kCopiedByChild : PageFate::kCopiedByParent;
    }
    return pfn(c) != pfn(b) ? PageFate::kCopiedByChild : PageFate::kCopiedByParent;
}

PageFate classify_unprivileged(uint64_t b, uint64_t c, uint64_t p) {
    if (!anon_present(b)) {
        return anon_present(c) && exclusive(c) ? PageFate::kChildNew : PageFate::kNotShared;
    }
    if (!anon_present(c)) return PageFate::kGone;
    bool child_alone = exclusive(c);
    if (!anon_present(p)) return child_alone ? PageFate::kRetained : PageFate::kShared;
    bool parent_alone = exclusive(p);
    if (!child_alone && !parent_alone) return PageFate::kShared;
    if (child_alone && parent_alone) return PageFate::kCopied;
    // With three or more sharers the side still sharing its frame is not the one that copied.
    return child_alone ? PageFate::kCopiedByChild : PageFate::kCopiedByParent;
}

PageFate classify_unprivileged_thp(uint64_t b, uint64_t c, uint64_t p, bool child_pmd,
                                   bool parent_pmd) {
    if (!anon_present(b)) return classify_unprivileged(b, c, p);
    if (!anon_present(c)) return PageFate::kGone;
    if (!anon_present(p)) return classify_unprivileged(b, c, p);
    if (child_pmd && parent_pmd) return PageFate::kShared;  // a write would have split one
    if (parent_pmd) return exclusive(c) ? PageFate::kCopiedByChild : PageFate::kShared;
    if (child_pmd) return exclusive(p) ? PageFate::kCopiedByParent : PageFate::kShared;
    return classify_unprivileged(b, c, p);
}

void CensusTotals::add(PageFate fate, size_t region) {
    RegionTotals* r = region < regions.size() ? &regions[region] : nullptr;
    switch (fate) {
        case PageFate::kShared:
            ++shared_pages;
            break;
        case PageFate::kCopiedByParent:
            ++copied_pages;
            ++copied_by_parent_pages;
            if (r) ++r->copied_by_parent_pages;
            break;
        case PageFate::kCopiedByChild:
            ++copied_pages;
            ++copied_by_child_pages;
            if (r) ++r->copied_by_child_pages;
            break;
        case PageFate::kCopied:
            ++copied_pages;
            break;
        case PageFate::kRetained:
            ++retained_pages;
            break;
        case PageFate::kChildNew:
            ++child_new_pages;
            break;
        case PageFate::kGone:
        case PageFate::kNotShared:
            break;
    }
    if (r && (fate == PageFate::kCopiedByParent || fate == PageFate::kCopiedByChild ||
              fate == PageFate::kCopied)) {
        ++r->copied_pages;
    }
}

size_t EpisodeBaseline::region_index(const std::string& name) {
    for (size_t i = 0; i < region_names_.size(); ++i) {
        if (region_names_[i] == name) return i;
    }
    region_names_.push_back(name);
    region_shared_pages_.push_back(0);
    return region_names_.size() - 1;
}

size_t EpisodeBaseline::pages_tracked() const {
    size_t n = 0;
    for (const auto& r : ranges_) n += (r.end - r.start) / kPageSize;
    return n;
}

uint64_t count_thp_pages(uint64_t start, const std::vector<uint64_t>& entries) {
    constexpr uint64_t kSubpages = 512;
    uint64_t count = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
        uint64_t address = start + i * kPageSize;
        if (address % (kSubpages * kPageSize) != 0 || i + kSubpages > entries.size()) continue;
        uint64_t first = pfn(entries[i]);
        if (first == 0 || first % kSubpages != 0) continue;
        bool whole = true;
        for (size_t k = 1; k < kSubpages && whole; ++k) whole = pfn(entries[i + k]) == first + k;
        if (whole) count += kSubpages;
    }
    return count;
}

// Whether most of [start, end) is populated, from a few sampled windows: a dense mapping is
// read directly, a sparse one (a large reservation) is scanned first.
bool EpisodeBaseline::mostly_populated(pagemap::PagemapReader& pm, uint64_t start, uint64_t end) {
    constexpr uint64_t kSmall = 64ull << 20;
    if (end - start <= kSmall) return true;
    constexpr int kWindows = 32;
    constexpr uint64_t kWindowPages = 16;
    uint64_t pages = (end - start) / kPageSize, present = 0, looked = 0;
    std::vector<uint64_t> window;
    for (int w = 0; w < kWindows; ++w) {
        uint64_t first = pages * static_cast<uint64_t>(w) / kWindows;
        uint64_t a = start + first * kPageSize;
        uint64_t b = std::min(end, a + kWindowPages * kPageSize);
        if (!pm.read(a, b, window)) return true;
        for (uint64_t e : window) present += pagemap::present(e) ? 1 : 0;
        looked += window.size();
    }
    return looked == 0 || present * 2 >= looked;
}

void EpisodeBaseline::add_range(uint64_t start, uint64_t end, size_t region, bool huge,
                                std::vector<uint64_t> child_entries) {
    Range r;
    r.start = start;
    r.end = end;
    r.region = region;
    r.huge = huge;
    r.child = std::move(child_entries);
    uint64_t pages = (end - start) / kPageSize;
    uint64_t zero = 0;
    for (uint64_t e : r.child) zero += (zero_pfn_ != 0 && pfn(e) == zero_pfn_) ? 1 : 0;
    zero_pages_ += zero;
    shared_pages_at_fork_ += pages - zero;
    region_shared_pages_[region] += pages - zero;
    thp_pages_ += huge ? pages : count_thp_pages(start, r.child);
    ranges_.push_back(std::move(r));
}

bool ChildWriteAreas::contains(uint64_t address) const {
    for (const auto& [start, end] : ranges) {
        if (address >= start && address < end) return true;
    }
    return false;
}

ChildWriteAreas child_write_areas(const std::vector<Mapping>& maps, const ChildWriteHints& hints) {
    ChildWriteAreas areas;
    constexpr uint64_t kStackWindow = 64 * 1024;
    if (hints.stack_pointer) {
        areas.ranges.emplace_back(hints.stack_pointer - kStackWindow,
                                  hints.stack_pointer + kStackWindow);
    }
    if (hints.thread_pointer) {
        areas.ranges.emplace_back(hints.thread_pointer - kStackWindow,
                                  hints.thread_pointer + 2 * kPageSize);
    }
    for (size_t i = 0; i < maps.size(); ++i) {
        const Mapping& m = maps[i];
        bool object_data = !m.shared && m.writable && !m.path.empty() && m.path[0] == '/';
        // A loaded object's .bss continues its file mapping as anonymous memory.
        bool object_bss = !m.shared && m.writable && m.path.empty() && i > 0 &&
                          maps[i - 1].end == m.start && !maps[i - 1].path.empty() &&
                          maps[i - 1].path[0] == '/';
        if (object_data || object_bss) areas.ranges.emplace_back(m.start, m.end);
    }
    return areas;
}

bool EpisodeBaseline::child_likely_wrote(uint64_t address) const {
    return child_write_areas_.contains(address);
}

bool EpisodeBaseline::take(pid_t child, pagemap::PagemapReader& child_pm, CensusMode mode,
                           uint64_t zero_pfn, const ChildWriteHints& hints, std::string& error) {
    mode_ = mode;
    zero_pfn_ = mode == CensusMode::kExact ? zero_pfn : 0;
    std::vector<Mapping> maps;
    if (!read_maps(child, maps)) {
        error = "child " + std::to_string(child) + " is gone";
        return false;
    }
    child_write_areas_ = child_write_areas(maps, hints);
    // One walk of the child's page tables per mapping: the unprivileged mode needs only which
    // pages are present and anonymous (PAGEMAP_SCAN runs); the exact mode needs frame numbers
    // (a read), and scans first only where a mapping is mostly holes; runs a few holes apart
    // are then read together.
    std::vector<PageRun> runs;
    std::vector<uint64_t> entries;
    for (const Mapping& m : maps) {
        if (!may_hold_cow_pages(m)) continue;
        size_t region = region_index(m.region_name());
        bool scan =
            mode_ == CensusMode::kUnprivileged || !mostly_populated(child_pm, m.start, m.end);
        if (!scan || !child_pm.populated_runs(m.start, m.end, runs)) {
            runs.assign(1, PageRun{m.start, m.end, 0});  // read it all
        }
        uint64_t read_start = 0, read_end = 0;  // what is to be read next
        auto read_pending = [&] {
            if (read_end == read_start) return true;
            if (!child_pm.read(read_start, read_end, entries)) return false;
            add_stretches(read_start, entries, region);
            read_start = read_end = 0;
            return true;
        };
        for (const auto& run : runs) {
            if (!(run.categories & pagemap::kPageIsPresent) && run.categories != 0) continue;
            if (run.categories & (pagemap::kPageIsPfnZero | pagemap::kPageIsFile)) {
                // The zero page (PAGEMAP_SCAN files it under FILE: it has no struct page) is
                // counted here, so no read may include it; page cache is not COW-shared.
                if (run.categories & pagemap::kPageIsPfnZero)
                    zero_pages_ += (run.end - run.start) / kPageSize;
                if (!read_pending()) break;
                continue;
            }
            if (run.categories != 0 && mode_ == CensusMode::kUnprivileged) {
                // Present and anonymous, all of it: nothing more to read.
                bool huge = (run.categories & pagemap::kPageIsHuge) != 0;
                add_range(run.start, run.end, region, huge, {});
                continue;
            }
            // Exact mode: frames are read. A huge page is told by its frames (count_thp_pages).
            if (read_end != read_start && run.start - read_end <= kMergedHolePages * kPageSize) {
                read_end = run.end;
                continue;
            }
            if (!read_pending()) break;
            read_start = run.start;
            read_end = run.end;
        }
        if (!read_pending()) {
            error = "child " + std::to_string(child) + " is gone";
            return false;
        }
    }
    std::sort(ranges_.begin(), ranges_.end(),
              [](const Range& a, const Range& b) { return a.start < b.start; });
    plan_reads();
    reset_shared_bits();
    return true;
}

void EpisodeBaseline::add_stretches(uint64_t start, std::vector<uint64_t>& entries, size_t region) {
    // Only stretches of fork-time anonymous pages are kept: later censuses read just those.
    size_t i = 0;
    while (i < entries.size()) {
        if (!anon_present(entries[i])) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < entries.size() && anon_present(entries[j])) ++j;
        std::vector<uint64_t> stretch;
        if (i == 0 && j == entries.size()) {
            stretch.swap(entries);  // all of it (dense memory): no copy of megabytes
        } else {
            stretch.assign(entries.begin() + static_cast<long>(i),
                           entries.begin() + static_cast<long>(j));
        }
        add_range(start + i * kPageSize, start + j * kPageSize, region, false, std::move(stretch));
        i = j;
    }
}

void EpisodeBaseline::plan_reads() {
    spans_.clear();
    for (size_t k = 0; k < ranges_.size(); ++k) {
        const Range& r = ranges_[k];
        if (!spans_.empty() && r.start - spans_.back().end <= kMergedHolePages * kPageSize) {
            spans_.back().end = r.end;
            spans_.back().last = k + 1;
        } else {
            spans_.push_back(ReadSpan{r.start, r.end, k, k + 1});
        }
    }
}

uint64_t EpisodeBaseline::tracked_pages_within(uint64_t start, uint64_t end) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), start,
                               [](uint64_t a, const Range& r) { return a < r.end; });
    uint64_t bytes = 0;
    for (; it != ranges_.end() && it->start < end; ++it) {
        bytes += std::min(end, it->end) - std::max(start, it->start);
    }
    return bytes / kPageSize;
}

void EpisodeBaseline::reset_shared_bits() {
    range_first_page_.clear();
    uint64_t pages = 0;
    for (const Range& r : ranges_) {
        range_first_page_.push_back(pages);
        pages += (r.end - r.start) / kPageSize;
    }
    shared_bits_.assign((pages + 63) / 64, 0);
    for (size_t k = 0; k < ranges_.size(); ++k) {
        const Range& r = ranges_[k];
        uint64_t n = (r.end - r.start) / kPageSize;
        for (uint64_t i = 0; i < n; ++i) {
            uint64_t b = i < r.child.size() ? r.child[i] : kPresentAnonymous;
            bool shareable = anon_present(b) && (zero_pfn_ == 0 || pfn(b) != zero_pfn_);
            uint64_t g = range_first_page_[k] + i;
            if (shareable) shared_bits_[g / 64] |= 1ull << (g % 64);
        }
    }
    count_shared_bits();
}

std::vector<std::pair<uint64_t, uint64_t>> EpisodeBaseline::shareable_page_runs() const {
    std::vector<std::pair<uint64_t, uint64_t>> runs;
    for (const Range& r : ranges_) {
        uint64_t n = (r.end - r.start) / kPageSize;
        for (uint64_t i = 0; i < n; ++i) {
            uint64_t b = i < r.child.size() ? r.child[i] : kPresentAnonymous;
            if (!anon_present(b) || (zero_pfn_ != 0 && pfn(b) == zero_pfn_)) continue;
            uint64_t page = r.start + i * kPageSize;
            if (!runs.empty() && runs.back().second == page) {
                runs.back().second = page + kPageSize;
            } else {
                runs.emplace_back(page, page + kPageSize);
            }
        }
    }
    return runs;
}

void EpisodeBaseline::count_shared_bits() {
    shared_rank_.resize(shared_bits_.size());
    uint64_t total = 0;
    for (size_t w = 0; w < shared_bits_.size(); ++w) {
        shared_rank_[w] = total;
        total += static_cast<uint64_t>(__builtin_popcountll(shared_bits_[w]));
    }
    shared_count_ = total;
}

EpisodeBaseline::TrackedPage EpisodeBaseline::shared_page(uint64_t rank) const {
    TrackedPage page;
    if (rank >= shared_count_) return page;
    // The word holding it, then the bit within the word.
    size_t w =
        static_cast<size_t>(std::upper_bound(shared_rank_.begin(), shared_rank_.end(), rank) -
                            shared_rank_.begin() - 1);
    uint64_t bits = shared_bits_[w];
    for (uint64_t skip = rank - shared_rank_[w]; skip > 0; --skip) bits &= bits - 1;
    uint64_t g = w * 64 + static_cast<uint64_t>(__builtin_ctzll(bits));
    size_t k = static_cast<size_t>(
        std::upper_bound(range_first_page_.begin(), range_first_page_.end(), g) -
        range_first_page_.begin() - 1);
    const Range& r = ranges_[k];
    uint64_t i = g - range_first_page_[k];
    page.address = r.start + i * kPageSize;
    page.child_at_fork = i < r.child.size() ? r.child[i] : kPresentAnonymous;
    page.parent_at_fork = i < r.parent.size() ? r.parent[i] : 0;
    page.region = r.region;
    return page;
}

PageFate EpisodeBaseline::fate_of(const TrackedPage& page, uint64_t c, uint64_t p) const {
    if (mode_ == CensusMode::kExact) {
        uint64_t b = page.child_at_fork, bp = page.parent_at_fork;
        bool early = anon_present(bp) && pfn(bp) != pfn(b);
        bool child_likely = early && child_likely_wrote(page.address);
        return classify_exact(b, bp, c, p, zero_pfn_, child_likely, early_side_unknown_);
    }
    return classify_unprivileged(page.child_at_fork, c, p);
}

void EpisodeBaseline::count_ksm_frames() {
    if (mode_ != CensusMode::kExact) return;
    std::vector<uint64_t> frames;
    for (const Range& r : ranges_) {
        for (uint64_t e : r.child) frames.push_back(pfn(e));
    }
    kpageflags::count_with_flag(std::move(frames), kpageflags::kKsmBit, ksm_pages_);
}

std::vector<uint64_t> EpisodeBaseline::pmd_blocks(pagemap::PagemapReader& pm, uint64_t start,
                                                  uint64_t end) {
    constexpr uint64_t kHugePage = 2 * 1024 * 1024;
    std::vector<uint64_t> blocks;
    std::vector<pagemap::PageRun> runs;
    if (!pm.populated_runs(start & ~(kHugePage - 1), end, runs)) return blocks;
    for (const auto& run : runs) {
        if (!(run.categories & pagemap::kPageIsHuge)) continue;
        for (uint64_t a = run.start & ~(kHugePage - 1); a < run.end; a += kHugePage) {
            blocks.push_back(a);
        }
    }
    return blocks;
}

void EpisodeBaseline::add_parent(pagemap::PagemapReader& parent_pm) {
    // Only the exact classification asks whether a page was copied before the baseline.
    if (mode_ != CensusMode::kExact) return;
    // A copy leaves both frames mapped once, so the child's side shows every page copied
    // before its read as exclusive; a page it still shares can have no early copy. Right after
    // a fork that is nearly every page: the parent is read around the few others only.
    std::vector<uint64_t> entries;
    for (Range& r : ranges_) {
        r.parent.clear();
        size_t n = r.child.size(), i = 0;
        while (i < n) {
            if (!exclusive(r.child[i])) {
                ++i;
                continue;
            }
            size_t last = i;
            for (size_t j = i + 1; j < n && j - last <= kMergedHolePages; ++j) {
                if (exclusive(r.child[j])) last = j;
            }
            if (!parent_pm.read(r.start + i * kPageSize, r.start + (last + 1) * kPageSize,
                                entries)) {
                r.parent.clear();  // gone: no sign of an early copy, the frames decide
                break;
            }
            if (r.parent.empty()) r.parent.assign(n, 0);
            std::copy(entries.begin(), entries.end(), r.parent.begin() + static_cast<long>(i));
            i = last + 1;
        }
    }
}

bool EpisodeBaseline::read_child(pid_t child, pagemap::PagemapReader& child_pm,
                                 ChildSnapshot& out) {
    uint64_t t0 = now_ns();
    size_t pages = 0;
    for (const ReadSpan& span : spans_) pages += (span.end - span.start) / kPageSize;
    out.entries.resize(pages);
    out.offsets.resize(ranges_.size());
    out.pmd_blocks.resize(ranges_.size());
    size_t at = 0;
    for (const ReadSpan& span : spans_) {
        if (!child_pm.read(span.start, span.end, out.entries.data() + at)) return false;
        for (size_t k = span.first; k < span.last; ++k) {
            out.offsets[k] = at + (ranges_[k].start - span.start) / kPageSize;
        }
        at += (span.end - span.start) / kPageSize;
    }
    for (size_t k = 0; k < ranges_.size(); ++k) {
        const Range& r = ranges_[k];
        out.pmd_blocks[k].clear();
        if (r.huge && mode_ == CensusMode::kUnprivileged) {
            out.pmd_blocks[k] = pmd_blocks(child_pm, r.start, r.end);
        }
    }
    bool gone = false;
    out.new_pages_outside = count_child_new_outside(child, child_pm, gone);
    out.cost_ns = now_ns() - t0;
    return !gone;
}

void EpisodeBaseline::start_totals(CensusTotals& out) const {
    out = CensusTotals{};
    out.regions.resize(region_names_.size());
    for (size_t i = 0; i < region_names_.size(); ++i) {
        out.regions[i].name = region_names_[i];
        out.regions[i].shared_at_fork_pages = region_shared_pages_[i];
    }
}

void EpisodeBaseline::compare_span(const ReadSpan& span, uint64_t from, uint64_t to,
                                   const uint64_t* child_entries,
                                   const std::vector<uint64_t>* child_pmds,
                                   pagemap::PagemapReader& parent_pm, CensusTotals& out) {
    auto has_block = [](const std::vector<uint64_t>& blocks, uint64_t address) {
        uint64_t block = address & ~((2ull << 20) - 1);
        return std::binary_search(blocks.begin(), blocks.end(), block);
    };
    scratch_parent_.resize((to - from) / kPageSize);
    if (out.parent_gone || !parent_pm.read(from, to, scratch_parent_.data())) {
        out.parent_gone = true;
        std::fill(scratch_parent_.begin(), scratch_parent_.end(), 0);
    }
    for (size_t k = span.first; k < span.last; ++k) {
        const Range& r = ranges_[k];
        uint64_t lo = std::max(r.start, from), hi = std::min(r.end, to);
        if (lo >= hi) continue;
        const uint64_t* now_child = child_entries + (lo - from) / kPageSize;
        const uint64_t* now_parent = scratch_parent_.data() + (lo - from) / kPageSize;
        bool thp_unprivileged = r.huge && mode_ == CensusMode::kUnprivileged;
        if (thp_unprivileged) parent_pmds_ = pmd_blocks(parent_pm, lo, hi);
        size_t first = static_cast<size_t>((lo - r.start) / kPageSize);
        size_t n = static_cast<size_t>((hi - lo) / kPageSize);
        for (size_t j = 0; j < n; ++j) {
            size_t i = first + j;  // the page's index in its range
            uint64_t c = now_child[j], p = now_parent[j];
            uint64_t bp = i < r.parent.size() ? r.parent[i] : 0;
            // The unprivileged baseline keeps no entries: every page of a range was present
            // and anonymous at fork.
            uint64_t b = i < r.child.size() ? r.child[i] : kPresentAnonymous;
            PageFate fate;
            if (thp_unprivileged) {
                uint64_t address = r.start + i * kPageSize;
                fate = classify_unprivileged_thp(b, c, p,
                                                 has_block(child_pmds[k - span.first], address),
                                                 has_block(parent_pmds_, address));
            } else if (mode_ == CensusMode::kExact) {
                bool early = anon_present(bp) && pfn(bp) != pfn(b);
                bool child_likely = early && child_likely_wrote(r.start + i * kPageSize);
                fate = classify_exact(b, bp, c, p, zero_pfn_, child_likely, early_side_unknown_);
            } else {
                fate = classify_unprivileged(b, c, p);
            }
            out.add(fate, r.region);
            uint64_t g = range_first_page_[k] + i;
            uint64_t bit = 1ull << (g % 64);
            if (fate == PageFate::kShared) {
                shared_bits_[g / 64] |= bit;
            } else {
                shared_bits_[g / 64] &= ~bit;
            }
        }
    }
}

void EpisodeBaseline::compare(const ChildSnapshot& child, pagemap::PagemapReader& parent_pm,
                              CensusTotals& out) {
    uint64_t t0 = now_ns();
    start_totals(out);
    for (const ReadSpan& span : spans_) {
        if (span.last > child.offsets.size()) break;
        // offsets[] is each range's first entry; the span starts that many pages before it.
        size_t span_at =
            child.offsets[span.first] - (ranges_[span.first].start - span.start) / kPageSize;
        compare_span(span, span.start, span.end, child.entries.data() + span_at,
                     child.pmd_blocks.data() + span.first, parent_pm, out);
    }
    count_shared_bits();
    out.child_new_pages += child.new_pages_outside;
    out.cost_ns = child.cost_ns + (now_ns() - t0);
}

bool EpisodeBaseline::census(pid_t child, pagemap::PagemapReader& child_pm,
                             pagemap::PagemapReader& parent_pm, CensusTotals& out) {
    if (!read_child(child, child_pm, scratch_child_)) {
        out = CensusTotals{};
        out.child_gone = true;
        return false;
    }
    compare(scratch_child_, parent_pm, out);
    if (!child_alive_throughout(child_pm)) {
        out = CensusTotals{};
        out.child_gone = true;
        return false;
    }
    return true;
}

bool EpisodeBaseline::child_alive_throughout(pagemap::PagemapReader& child_pm) const {
    // Without frame numbers a copy is a page mapped by one side alone: as an exiting child
    // unmaps, every page the parent shared with it turns exclusive. A parent read after the
    // child's began its exit would count them all as the parent's copies. The child's address
    // space, once gone, stays gone: alive after the parent's reads, it was alive during them.
    return mode_ != CensusMode::kUnprivileged || child_pm.address_space_alive();
}

SliceOutcome EpisodeBaseline::census_slice(pid_t child, pagemap::PagemapReader& child_pm,
                                           pagemap::PagemapReader& parent_pm, SlicedCensus& census,
                                           uint64_t max_pages) {
    uint64_t t0 = now_ns();
    if (census.next_span == 0 && census.next_address == 0) start_totals(census.totals);
    uint64_t pages = 0;
    std::vector<uint64_t>& entries = scratch_child_.entries;
    std::vector<std::vector<uint64_t>>& pmds = scratch_child_.pmd_blocks;
    max_pages = std::max<uint64_t>(max_pages, 1);
    while (census.next_span < spans_.size() && pages < max_pages) {
        const ReadSpan& span = spans_[census.next_span];
        // A span is cut where the slice ends (a dense region is one span of millions of
        // pages); each part's two sides are read one after the other.
        uint64_t from = std::max(census.next_address, span.start);
        uint64_t to = std::min(span.end, from + (max_pages - pages) * kPageSize);
        entries.resize((to - from) / kPageSize);
        if (!child_pm.read(from, to, entries.data())) {
            census.totals = CensusTotals{};
            census.totals.child_gone = true;
            return SliceOutcome::kChildGone;
        }
        pmds.resize(span.last - span.first);
        for (size_t k = span.first; k < span.last; ++k) {
            const Range& r = ranges_[k];
            pmds[k - span.first].clear();
            uint64_t lo = std::max(r.start, from), hi = std::min(r.end, to);
            if (r.huge && mode_ == CensusMode::kUnprivileged && lo < hi) {
                pmds[k - span.first] = pmd_blocks(child_pm, lo, hi);
            }
        }
        compare_span(span, from, to, entries.data(), pmds.data(), parent_pm, census.totals);
        pages += entries.size();
        census.pages_read += entries.size();
        if (to == span.end) {
            ++census.next_span;
            census.next_address = 0;
        } else {
            census.next_address = to;
        }
    }
    census.totals.cost_ns += now_ns() - t0;
    if (!child_alive_throughout(child_pm)) {
        census.totals = CensusTotals{};
        census.totals.child_gone = true;
        return SliceOutcome::kChildGone;
    }
    if (census.next_span < spans_.size()) return SliceOutcome::kMore;
    bool gone = false;
    uint64_t outside = count_child_new_outside(child, child_pm, gone);
    if (gone) {
        census.totals = CensusTotals{};
        census.totals.child_gone = true;
        return SliceOutcome::kChildGone;
    }
    census.totals.child_new_pages += outside;
    count_shared_bits();
    census.totals.cost_ns += now_ns() - t0;
    return SliceOutcome::kDone;
}

// The child's anonymous pages at addresses that held no fork-time anonymous page.
uint64_t EpisodeBaseline::count_child_new_outside(pid_t child, pagemap::PagemapReader& child_pm,
                                                  bool& gone) {
    std::vector<Mapping> maps;
    if (!read_maps(child, maps)) {
        gone = true;
        return 0;
    }
    uint64_t count = 0;
    std::vector<pagemap::PageRun> runs;
    std::vector<uint64_t> entries;
    // Calls f(start, end) for the parts of [start, end) not covered by a baseline range.
    auto for_each_gap = [this](uint64_t start, uint64_t end, auto&& f) {
        auto it = std::upper_bound(ranges_.begin(), ranges_.end(), start,
                                   [](uint64_t a, const Range& r) { return a < r.end; });
        uint64_t cursor = start;
        for (; it != ranges_.end() && it->start < end; ++it) {
            if (it->start > cursor) f(cursor, it->start);
            cursor = std::max(cursor, it->end);
        }
        if (cursor < end) f(cursor, end);
    };
    // The gaps between baseline ranges (the ranges themselves were just read) are scanned for
    // private anonymous pages: gaps a few tracked pages apart in one filtered PAGEMAP_SCAN, what
    // it finds in those tracked pages not counted. Without PAGEMAP_SCAN each gap is read.
    std::vector<std::pair<uint64_t, uint64_t>> windows;
    for (const Mapping& m : maps) {
        if (!may_hold_cow_pages(m)) continue;
        windows.clear();
        for_each_gap(m.start, m.end, [&](uint64_t s, uint64_t e) {
            if (!windows.empty() && s - windows.back().second <= kMergedHolePages * kPageSize) {
                windows.back().second = e;
            } else {
                windows.emplace_back(s, e);
            }
        });
        for (const auto& [ws, we] : windows) {
            if (child_pm.private_anon_runs(ws, we, runs)) {
                for (const auto& run : runs) {
                    count += (run.end - run.start) / kPageSize -
                             tracked_pages_within(run.start, run.end);
                }
                continue;
            }
            for_each_gap(ws, we, [&](uint64_t s, uint64_t e) {
                if (gone) return;
                if (!child_pm.read(s, e, entries)) {
                    gone = true;
                    return;
                }
                for (uint64_t x : entries) {
                    if (anon_present(x) && (zero_pfn_ == 0 || pfn(x) != zero_pfn_)) ++count;
                }
            });
            if (gone) return 0;
        }
    }
    return count;
}

ZeroPage learn_zero_page() {
    // Two read-faulted pages of a fresh mapping both map the zero page. Some kernels (VMs booted
    // with pvm_no_zero_page=1) give every read fault a page of its own: then there is no zero
    // page, and the frame one such page had must not be taken for it.
    void* p = mmap(nullptr, 2 * kPageSize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ZeroPage zero;
    if (p == MAP_FAILED) return zero;
    auto* bytes = static_cast<volatile char*>(p);
    volatile char sink = bytes[0];
    sink = bytes[kPageSize];
    (void)sink;
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        uint64_t e[2] = {0, 0};
        off_t off = static_cast<off_t>(reinterpret_cast<uint64_t>(p) / kPageSize * sizeof e[0]);
        if (pread(fd, e, sizeof e, off) == sizeof e && pfn(e[0]) != 0) {
            if (pfn(e[0]) == pfn(e[1])) {
                zero.pfn = pfn(e[0]);
            } else {
                zero.kernel_has_none = true;
            }
        }
        close(fd);
    }
    munmap(p, 2 * kPageSize);
    return zero;
}

}  // namespace cowtrace

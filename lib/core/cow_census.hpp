// Copy-on-write accounting of one fork episode: the fork-time baseline, and a census that
// compares parent and child against it page by page. The kernel facts this rests on are in
// DESIGN.md §5 and /work/shared/research/kernel-pagemap.md:
//  - right after fork every private anonymous page is mapped by both sides (same frame);
//  - a write by either side gives the writer a new frame and leaves the other the original,
//    and makes the page "exclusively mapped" (pagemap bit 56) on both sides;
//  - the child's frames right after fork are the fork-time frames, so a baseline read from the
//    child (stopped in our fork wrapper) costs the parent nothing.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pagemap.hpp"
#include "proc_maps.hpp"

namespace cowtrace {

enum class CensusMode {
    kExact,         // frame numbers (root): shared = same frame; the side whose frame moved copied
    kUnprivileged,  // the exclusive bit: copied = present at fork and now mapped once
};

// What became of one page that was private, anonymous and present in the child at fork.
enum class PageFate : uint8_t {
    kNotShared,  // not a fork-time anonymous page (and not new in the child either)
    kShared,     // still one frame for both
    kCopiedByParent,
    kCopiedByChild,
    kCopied,    // copied, side unknown (unprivileged mode, two sharers)
    kRetained,  // only the child maps it: the parent freed or unmapped it
    kGone,      // the child no longer maps it
    kChildNew,  // not there at fork, the child's own page now
};

// Exact mode. b/bp: child's and parent's entries at the baseline; c/p: now. zero_pfn: the
// kernel's zero page (read-faulted anonymous memory), which is not memory anyone pays for.
// A page already copied when the baseline was read cannot say who copied it: child_likely says
// whether it lies where the child writes on its way out of fork() (see ChildWriteHints).
// early_side_unknown: such a page is a copy of unknown side instead (the baseline was read long
// after the fork: an attach to a fork under way).
PageFate classify_exact(uint64_t b, uint64_t bp, uint64_t c, uint64_t p, uint64_t zero_pfn,
                        bool child_likely = false, bool early_side_unknown = false);
// Unprivileged mode: no frame numbers, only present/file/exclusive bits.
PageFate classify_unprivileged(uint64_t b, uint64_t c, uint64_t p);

// Unprivileged mode inside a transparent huge page. Since Linux 6.15 the kernel reports a
// PMD-mapped huge page's exclusivity from its first subpage, for all 512: the side still
// PMD-mapped reports nonsense, while the side whose PMD was split (the writer: a write to a
// shared THP splits the writer's PMD and copies 4 KiB) reports each subpage exactly.
// child_pmd/parent_pmd: whether each side still maps this 2 MiB block with one PMD.
PageFate classify_unprivileged_thp(uint64_t b, uint64_t c, uint64_t p, bool child_pmd,
                                   bool parent_pmd);

// Exact mode: how many of the pages from start (entries: theirs, one per 4 KiB) lie in
// transparent huge pages, PMD- or PTE-mapped. The exact mode reads frames rather than scanning,
// and tells a THP by them: 512 consecutive frames from a 512-aligned one, at a 2 MiB-aligned
// address.
uint64_t count_thp_pages(uint64_t start, const std::vector<uint64_t>& entries);

struct RegionTotals {
    std::string name;
    uint64_t shared_at_fork_pages = 0;
    uint64_t copied_pages = 0;
    uint64_t copied_by_parent_pages = 0;
    uint64_t copied_by_child_pages = 0;
};

struct CensusTotals {
    uint64_t shared_pages = 0;
    uint64_t copied_pages = 0;  // all copies, whoever made them
    uint64_t copied_by_parent_pages = 0;
    uint64_t copied_by_child_pages = 0;
    uint64_t retained_pages = 0;
    uint64_t child_new_pages = 0;
    std::vector<RegionTotals> regions;  // parallel to EpisodeBaseline::region_names
    bool parent_gone = false;
    bool child_gone = false;  // the child's address space is gone (exit or exec)
    uint64_t cost_ns = 0;

    void add(PageFate fate, size_t region);
};

// Where a child writes between fork() returning and its baseline being read: its stack near the
// stack pointer, its TLS block, and the data of loaded objects (libc resets locks there).
struct ChildWriteHints {
    uint64_t stack_pointer = 0;
    uint64_t thread_pointer = 0;
};

// The address ranges a child likely wrote before its baseline was read: near the hinted stack
// and thread pointers, and the writable private data (and .bss) of loaded objects in maps. A
// copy already made when the baseline was read is the child's there, the parent's elsewhere.
struct ChildWriteAreas {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;  // [start, end)
    bool contains(uint64_t address) const;
};
ChildWriteAreas child_write_areas(const std::vector<Mapping>& maps, const ChildWriteHints& hints);

// The child's side of a census, read while the child waits; the parent's side is read after
// the child was let go (the child's frames are what must not move under us).
struct ChildSnapshot {
    std::vector<uint64_t> entries;                  // as read: runs of ranges a few holes apart
    std::vector<size_t> offsets;                    // per baseline range: its first in entries
    std::vector<std::vector<uint64_t>> pmd_blocks;  // per baseline range (THP, unprivileged)
    uint64_t new_pages_outside = 0;                 // child-new pages outside the ranges
    uint64_t cost_ns = 0;
};

// A periodic census read a slice at a time (EpisodeBaseline::census_slice): where the next
// slice starts, and the figures of the slices read so far.
struct SlicedCensus {
    size_t next_span = 0;
    uint64_t next_address = 0;  // within the span; 0: from its start
    uint64_t pages_read = 0;    // so far, each on both sides
    CensusTotals totals;
};
enum class SliceOutcome : uint8_t { kMore, kDone, kChildGone };

class EpisodeBaseline {
public:
    // The child's side: its mappings and fork-time pages. The child must be stopped (it waits in
    // our fork wrapper).
    bool take(pid_t child, pagemap::PagemapReader& child_pm, CensusMode mode, uint64_t zero_pfn,
              const ChildWriteHints& hints, std::string& error);
    // The parent's side, read once the child runs again: it only serves to recognise copies
    // made before the child's side was read (exact mode), so only where the child's side shows
    // a page mapped once: a page still mapped by both cannot have been copied yet.
    void add_parent(pagemap::PagemapReader& parent_pm);
    // The baseline is read long after the fork (`cowtrace attach` to a fork under way): copies
    // already made then are copies of unknown side, not attributed by place. Before take().
    void copies_before_baseline_side_unknown() { early_side_unknown_ = true; }
    // KSM-merged frames are shared whatever fork did: counts how many of the fork-time pages
    // are such frames (exact mode: reads /proc/kpageflags).
    void count_ksm_frames();

    // A census in two steps: the child (false if its address space is gone), then the parent.
    bool read_child(pid_t child, pagemap::PagemapReader& child_pm, ChildSnapshot& out);
    void compare(const ChildSnapshot& child, pagemap::PagemapReader& parent_pm, CensusTotals& out);
    // Both steps at once (periodic samples).
    bool census(pid_t child, pagemap::PagemapReader& child_pm, pagemap::PagemapReader& parent_pm,
                CensusTotals& out);
    // A periodic census of a large episode in slices of about max_pages pages (both sides of
    // each), so that the sampler's other work goes on between them. The figures are exact page
    // by page, each page as it was when its slice was read. kDone: census.totals is complete,
    // and the pages still shared are known for the next panel (as after census()). Another
    // census or slice of this baseline in between restarts it (next_span = 0).
    SliceOutcome census_slice(pid_t child, pagemap::PagemapReader& child_pm,
                              pagemap::PagemapReader& parent_pm, SlicedCensus& census,
                              uint64_t max_pages);

    // One page the census follows: where it is and what it was at fork.
    struct TrackedPage {
        uint64_t address = 0;
        uint64_t child_at_fork = 0;   // b: the child's entry at the baseline
        uint64_t parent_at_fork = 0;  // bp: the parent's, just after (exact mode)
        size_t region = 0;
    };
    // The pages still shared at the last census (before the first: every fork-time page that
    // can be shared): how many, and the rank-th of them in address order. A sampled census
    // draws its panel from these.
    uint64_t shared_at_last_census() const { return shared_count_; }
    TrackedPage shared_page(uint64_t rank) const;
    // What became of a tracked page whose entries are now c (child) and p (parent). Transparent
    // huge pages in unprivileged mode are judged like 4 KiB pages here (the exact census refines
    // them from their PMD mapping).
    PageFate fate_of(const TrackedPage& page, uint64_t c, uint64_t p) const;

    // The fork-time pages that either side's first write copies, as address runs [start, end):
    // what a sampled page fault is checked against (tools/collector/copy_attribution.hpp).
    std::vector<std::pair<uint64_t, uint64_t>> shareable_page_runs() const;

    uint64_t shared_pages_at_fork() const { return shared_pages_at_fork_; }
    uint64_t zero_pages_at_fork() const { return zero_pages_; }
    uint64_t thp_pages_at_fork() const { return thp_pages_; }
    uint64_t ksm_pages_at_fork() const { return ksm_pages_; }
    const std::vector<std::string>& region_names() const { return region_names_; }
    const std::vector<uint64_t>& region_shared_pages() const { return region_shared_pages_; }
    CensusMode mode() const { return mode_; }
    // After the parent's side was read: whether the child's figures can stand (see .cpp).
    bool child_alive_throughout(pagemap::PagemapReader& child_pm) const;
    size_t pages_tracked() const;

private:
    struct Range {
        uint64_t start;
        uint64_t end;
        size_t region;
        bool huge;                    // PMD-mapped THP at fork
        std::vector<uint64_t> child;  // child's entries at the baseline (exact mode only)
        // The parent's entries just after, where the child's page was mapped once (0 elsewhere;
        // empty when there is no such page, or until add_parent).
        std::vector<uint64_t> parent;
    };
    // Ranges a few holes apart, read with one pread: a system call costs about a microsecond,
    // a hole's entries a few nanoseconds each.
    struct ReadSpan {
        uint64_t start;
        uint64_t end;
        size_t first;  // ranges_[first, last)
        size_t last;
    };

    size_t region_index(const std::string& name);
    // Figures with every region named and nothing counted yet.
    void start_totals(CensusTotals& out) const;
    // Classifies the pages of span within [from, to): the child's entries (from `from`) and,
    // for PMD-mapped ranges in unprivileged mode, its PMD blocks (one list per range of the
    // span); the parent's are read here.
    void compare_span(const ReadSpan& span, uint64_t from, uint64_t to,
                      const uint64_t* child_entries, const std::vector<uint64_t>* child_pmds,
                      pagemap::PagemapReader& parent_pm, CensusTotals& out);
    bool mostly_populated(pagemap::PagemapReader& pm, uint64_t start, uint64_t end);
    // The stretches of fork-time anonymous pages among entries (read from start) become ranges
    // (entries may be taken over).
    void add_stretches(uint64_t start, std::vector<uint64_t>& entries, size_t region);
    void plan_reads();
    // How many tracked pages lie in [start, end).
    uint64_t tracked_pages_within(uint64_t start, uint64_t end) const;
    void add_range(uint64_t start, uint64_t end, size_t region, bool huge,
                   std::vector<uint64_t> child_entries);
    bool child_likely_wrote(uint64_t address) const;
    uint64_t count_child_new_outside(pid_t child, pagemap::PagemapReader& child_pm, bool& gone);
    // 2 MiB blocks of [start, end) that pm maps with a PMD right now.
    std::vector<uint64_t> pmd_blocks(pagemap::PagemapReader& pm, uint64_t start, uint64_t end);

    CensusMode mode_ = CensusMode::kUnprivileged;
    uint64_t zero_pfn_ = 0;
    bool early_side_unknown_ = false;
    std::vector<Range> ranges_;  // sorted, disjoint
    std::vector<ReadSpan> spans_;
    ChildWriteAreas child_write_areas_;
    std::vector<std::string> region_names_;
    std::vector<uint64_t> region_shared_pages_;
    uint64_t shared_pages_at_fork_ = 0;
    uint64_t zero_pages_ = 0;
    uint64_t thp_pages_ = 0;
    uint64_t ksm_pages_ = 0;
    // Which tracked pages (one bit each, ranges in order) were shared at the last census, and
    // the number of set bits before each word (to find the rank-th quickly).
    void reset_shared_bits();
    void count_shared_bits();
    std::vector<uint64_t> shared_bits_;
    std::vector<uint64_t> shared_rank_;
    std::vector<uint64_t> range_first_page_;  // global page index of each range's first page
    uint64_t shared_count_ = 0;

    ChildSnapshot scratch_child_;  // reused: a census of 2 GiB reads 4 MiB of entries a side
    std::vector<uint64_t> scratch_parent_;
    std::vector<uint64_t> parent_pmds_;
};

// The kernel's zero page, which read-faulted anonymous memory maps until it is written.
struct ZeroPage {
    uint64_t pfn = 0;              // its frame (needs PFN access); 0 when not known
    bool kernel_has_none = false;  // read faults get pages of their own (pvm_no_zero_page=1)
};
ZeroPage learn_zero_page();

}  // namespace cowtrace

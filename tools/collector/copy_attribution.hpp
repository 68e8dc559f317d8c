// Which sampled page faults of a fork episode were copies, and the call paths they came from.
//
// The rules (research: /work/shared/research/attribution.md §5): a write to a page both sides
// shared at fork faults once on the side that writes it first, and that fault copies it; the
// other side's later fault on the same page reuses the original (no copy). A fault on a page
// that was not shared at fork is a new page. So, in time order, a sample is
//  - a copy by its side when its page was shareable at fork and no earlier sample of either
//    side fell on that page;
//  - a repeat when an earlier sample did (the reuse, or a read-then-write's second fault);
//  - a new page otherwise.
// Under sampling (one fault in `period`) an earlier fault on the same page may go unseen: the
// census stays the measure of how much was copied; this gives the shares of the call paths.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace cowtrace::collector {

enum class FaultSide : uint8_t { kParent = 0, kChild = 1 };

class CopyAttribution {
public:
    CopyAttribution(pid_t parent, pid_t child, uint64_t fork_t_ns)
        : parent_(parent), child_(child), fork_t_ns_(fork_t_ns) {}

    pid_t parent() const { return parent_; }
    pid_t child() const { return child_; }
    uint64_t fork_t_ns() const { return fork_t_ns_; }

    // The pages shareable at fork, as sorted, disjoint address runs [start, end).
    void set_fork_pages(std::vector<std::pair<uint64_t, uint64_t>> runs);
    bool fork_pages_known() const { return pages_known_; }

    // A sample of pid (either side; others are ignored) at t_ns on address, standing for
    // `weight` faults, from the call path `path` (an id of the caller's choosing).
    void add(pid_t pid, uint64_t t_ns, uint64_t address, uint64_t weight, uint32_t path);

    struct PathFigures {
        uint32_t path = 0;
        FaultSide side = FaultSide::kParent;
        uint64_t samples = 0;
        uint64_t faults = 0;  // the samples' weights: faults they stand for
    };
    struct Result {
        std::vector<PathFigures> copies;  // largest first
        uint64_t copy_samples = 0;
        uint64_t copy_faults = 0;  // estimated copies (pages) the samples stand for
        uint64_t new_page_samples = 0;
        uint64_t repeat_samples = 0;
        uint64_t samples = 0;  // of either side, after the fork
    };
    // Classifies the samples taken so far (call once the episode ended).
    Result classify() const;

private:
    struct Sample {
        uint64_t t_ns;
        uint64_t page;
        uint64_t weight;
        uint32_t path;
        FaultSide side;
    };
    bool shareable_at_fork(uint64_t page) const;

    pid_t parent_;
    pid_t child_;
    uint64_t fork_t_ns_;
    bool pages_known_ = false;
    std::vector<std::pair<uint64_t, uint64_t>> runs_;
    std::vector<Sample> samples_;
};

}  // namespace cowtrace::collector

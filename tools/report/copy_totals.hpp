// What the forks' copies cost the machine: at once, and in all.
//
// Summing every fork's peak answers "how much copying happened", not "how much memory did the
// copies take": a shell loop of 10,000 short children, never more than one alive, sums to a
// gigabyte that never existed. The concurrent peak is the most the copies of the episodes alive
// at the same moment took together, from each episode's counted (exact) samples.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/process_tree.hpp"

namespace cowtrace::report {

struct CopyTotals {
    uint64_t peak_concurrent_bytes = 0;  // the most copied at one moment, alive episodes summed
    uint64_t peak_concurrent_t_ns = 0;   // when (trace time)
    uint64_t total_bytes = 0;            // every measured episode's peak, summed
    size_t measured = 0;                 // episodes with figures (short-lived ones have none)
};

// An episode holds its copies from each counted sample until the next, and none after it ended.
CopyTotals copy_totals(const model::ProcessTree& tree);

// What one episode's copies took at t_ns (trace time): its latest counted sample by then, 0
// before its first or after its end.
uint64_t copied_held_at(const model::ProcessTree& tree, const model::ForkEpisode& e, uint64_t t_ns);

}  // namespace cowtrace::report

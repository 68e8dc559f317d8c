#include "wakeup_coalescing.hpp"

namespace cowtrace::collector {

uint64_t WakeupCoalescer::hold_off_after(uint64_t started_ns, uint64_t ended_ns, size_t records) {
    bool burst = last_end_ns_ != 0 && started_ns >= last_end_ns_ &&
                 started_ns - last_end_ns_ < hold_off_ns_ && records < kFullRound;
    uint64_t hold = burst ? hold_off_ns_ : 0;
    last_end_ns_ = ended_ns + hold;
    return hold;
}

}  // namespace cowtrace::collector

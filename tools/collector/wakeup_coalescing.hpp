// When the event loop lets records gather before it reads again. A spawn-heavy program sends
// a handful of records per process, each of which would wake the collector on its own: a
// context switch, an epoll round and a census hand-over for one or two records, most of the
// collector's CPU in a shell loop. Records that come in a burst (a round that began within the
// hold-off of the previous one's end) are left to gather for the hold-off before the next
// round; a record after a quiet spell (a snapshot child's start) is read at once, and so is the
// one right behind it (its parent's), since the hold-off follows a round rather than precedes
// it. Nothing in the traced program waits for this: it only delays what the collector reads
// (a burst's baseline reads by up to the hold-off).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cowtrace::collector {

class WakeupCoalescer {
public:
    explicit WakeupCoalescer(uint64_t hold_off_ns) : hold_off_ns_(hold_off_ns) {}

    // A round of the event loop ran from started_ns to ended_ns and read `records` records: how
    // long to let records gather before the next one (0: none). A round that read a full batch
    // (kFullRound) is never held off: records were queued already (a flood), and a pause would
    // only let the senders' socket buffers fill and block them.
    uint64_t hold_off_after(uint64_t started_ns, uint64_t ended_ns, size_t records);

    static constexpr size_t kFullRound = 64;

private:
    uint64_t hold_off_ns_;
    uint64_t last_end_ns_ = 0;  // the previous round's end, its hold-off included
};

}  // namespace cowtrace::collector

// The whole tree's PSS from per-process samples taken in turn. PSS divides a shared page among
// its sharers, so the processes' figures add up, but only if they were read at the same time:
// a parent read before its fork still counts in full the pages its child now shares, and summed
// with the child's own later sample they count one and a half times (a 64 MiB server and its
// snapshot child read as 96 MiB). The fork's census says how much the two share, so:
//   - at the fork, half of it passes from the parent's figure to the child's; the child keeps
//     it until its own first sample, or until the parent's next one (which already counts the
//     pages as shared; a child not sampled yet then counts nothing);
//   - when the child exits or execs, half of what it still shared passes back to the parent
//     until the parent's next sample.
// A pass never changes the sum; the next sample of either side replaces the guess. Used by the
// report's timeline (keys: process indices) and the live Prometheus gauge (keys: pids).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace cowtrace::model {

class TreePssLedger {
public:
    using Key = uint64_t;

    void sampled(Key process, uint64_t pss_bytes);
    void forked(Key parent, Key child, uint64_t shared_bytes);
    void sharing_ended(Key child, Key parent, uint64_t still_shared_bytes);
    // The process is gone: it counts nothing, and its entry is dropped.
    void ended(Key process);

    uint64_t total_bytes() const { return total_; }
    // What the process counts now (0 if nothing).
    uint64_t share_of(Key process) const;
    // Every process that counts something, in no particular order.
    template <typename Visit>
    void for_each_share(Visit visit) const {
        for (const auto& [key, entry] : entries_) {
            if (entry.pss_bytes) visit(key, entry.pss_bytes);
        }
    }
    size_t tracked() const { return entries_.size(); }

private:
    struct Entry {
        uint64_t pss_bytes = 0;
        bool sampled = false;
        std::vector<Key> lent_to;  // children holding a share passed at a fork, not yet sampled
    };
    void set(Entry& e, uint64_t pss_bytes);
    // Passes up to `bytes` of from's figure to to's; returns what passed.
    uint64_t pass(Key from, Key to, uint64_t bytes);

    std::unordered_map<Key, Entry> entries_;
    uint64_t total_ = 0;
};

}  // namespace cowtrace::model

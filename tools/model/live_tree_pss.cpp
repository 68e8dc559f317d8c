#include "live_tree_pss.hpp"

namespace cowtrace::model {

void LiveTreePss::process_started(pid_t pid) {
    alive_.insert(pid);
}

void LiveTreePss::process_ended(pid_t pid) {
    sharing_ended(pid);
    ledger_.ended(static_cast<uint64_t>(pid));
    alive_.erase(pid);
}

void LiveTreePss::memory_sampled(pid_t pid, uint64_t pss_bytes) {
    if (alive_.count(pid)) ledger_.sampled(static_cast<uint64_t>(pid), pss_bytes);
}

void LiveTreePss::episode_started(pid_t child, pid_t parent, uint64_t shared_bytes) {
    // Already sharing: a rotated trace file began with the episode's start again. A child
    // already gone (its end seen first) takes no share: nothing would take it back.
    if (sharing_.count(child) || !alive_.count(child)) return;
    ledger_.forked(static_cast<uint64_t>(parent), static_cast<uint64_t>(child), shared_bytes);
    sharing_[child] = Sharing{parent, shared_bytes};
}

void LiveTreePss::episode_sampled(pid_t child, uint64_t still_shared_bytes) {
    auto it = sharing_.find(child);
    if (it != sharing_.end()) it->second.still_shared_bytes = still_shared_bytes;
}

void LiveTreePss::episode_ended(pid_t child, bool child_exits) {
    if (!child_exits) sharing_ended(child);
}

void LiveTreePss::sharing_ended(pid_t child) {
    auto it = sharing_.find(child);
    if (it == sharing_.end()) return;
    ledger_.sharing_ended(static_cast<uint64_t>(child), static_cast<uint64_t>(it->second.parent),
                          it->second.still_shared_bytes);
    sharing_.erase(it);
}

}  // namespace cowtrace::model

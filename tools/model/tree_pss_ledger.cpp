#include "tree_pss_ledger.hpp"

#include <algorithm>

namespace cowtrace::model {

void TreePssLedger::set(Entry& e, uint64_t pss_bytes) {
    total_ = total_ - e.pss_bytes + pss_bytes;
    e.pss_bytes = pss_bytes;
}

void TreePssLedger::sampled(Key process, uint64_t pss_bytes) {
    Entry& e = entries_[process];
    set(e, pss_bytes);
    e.sampled = true;
    // This sample already divides the pages a fork shared: what was lent goes.
    for (Key child : e.lent_to) {
        auto it = entries_.find(child);
        if (it != entries_.end() && !it->second.sampled) set(it->second, 0);
    }
    e.lent_to.clear();
}

uint64_t TreePssLedger::pass(Key from, Key to, uint64_t bytes) {
    auto source = entries_.find(from);
    if (source == entries_.end() || from == to) return 0;
    uint64_t moved = std::min(bytes, source->second.pss_bytes);
    if (moved == 0) return 0;
    source->second.pss_bytes -= moved;
    entries_[to].pss_bytes += moved;  // may rehash: `source` is not used after this
    return moved;
}

void TreePssLedger::forked(Key parent, Key child, uint64_t shared_bytes) {
    if (pass(parent, child, shared_bytes / 2) == 0) return;
    if (!entries_[child].sampled) entries_[parent].lent_to.push_back(child);
}

void TreePssLedger::sharing_ended(Key child, Key parent, uint64_t still_shared_bytes) {
    if (!entries_.count(parent)) return;  // the parent is gone too
    pass(child, parent, still_shared_bytes / 2);
}

void TreePssLedger::ended(Key process) {
    auto it = entries_.find(process);
    if (it == entries_.end()) return;
    total_ -= it->second.pss_bytes;
    entries_.erase(it);
}

uint64_t TreePssLedger::share_of(Key process) const {
    auto it = entries_.find(process);
    return it == entries_.end() ? 0 : it->second.pss_bytes;
}

}  // namespace cowtrace::model

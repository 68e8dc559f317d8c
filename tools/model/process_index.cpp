#include "process_index.hpp"

#include <algorithm>

namespace cowtrace::model {

namespace {
constexpr uint64_t kNotGone = UINT64_MAX;
}

Process& ProcessIndex::at(pid_t pid, uint64_t t, bool creation) {
    auto it = current_.find(pid);
    if (it != current_.end()) {
        Process& p = tree_.processes[it->second];
        bool ended = p.end_ns().has_value() || p.exit.kind != ExitStatus::Kind::kUnknown;
        if (!(creation && ended)) {
            if (t < p.start_ns) p.start_ns = t;
            return p;
        }
    }
    Process p;
    p.pid = pid;
    p.start_ns = t;
    tree_.processes.push_back(std::move(p));
    size_t index = tree_.processes.size() - 1;
    auto [slot, fresh] = current_.try_emplace(pid, index);
    previous_holder_.resize(index, SIZE_MAX);  // a tree given with processes in it already
    gone_ns_.resize(index, kNotGone);
    previous_holder_.push_back(fresh ? SIZE_MAX : slot->second);
    slot->second = index;
    gone_ns_.push_back(kNotGone);
    return tree_.processes.back();
}

Process& ProcessIndex::sender(const wire::RecordHeader& h, uint64_t t) {
    Process& p = at(h.pid, t, speaks_for_successor(h, t));
    p.shim_loaded = true;
    return p;
}

std::optional<size_t> ProcessIndex::current(pid_t pid) const {
    auto it = current_.find(pid);
    if (it == current_.end()) return std::nullopt;
    return it->second;
}

void ProcessIndex::mark_gone(size_t index, uint64_t t) {
    gone_ns_[index] = std::min(gone_ns_[index], t);
}

// A ChildStart opens a process, so it cannot belong to a holder that has ended (at() checks
// that), and nothing is sent after the holder was reaped.
bool ProcessIndex::speaks_for_successor(const wire::RecordHeader& h, uint64_t t) const {
    auto it = current_.find(h.pid);
    if (it == current_.end()) return false;
    if (h.type == static_cast<uint16_t>(wire::RecordType::kChildStart)) return true;
    uint64_t gone = gone_ns_[it->second];
    return gone != kNotGone && t > gone;
}

}  // namespace cowtrace::model

#include "process_index.hpp"

namespace cowtrace::model {

namespace {
const std::vector<size_t> kNone;
}

Process& ProcessIndex::at(pid_t pid, uint64_t t, bool creation) {
    auto it = current_.find(pid);
    if (it != current_.end()) {
        Process& p = tree_.processes[it->second];
        bool ended = p.end_ns.has_value() || p.exit.kind != ExitStatus::Kind::kUnknown;
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
    current_[pid] = index;
    by_pid_[pid].push_back(index);
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

const std::vector<size_t>& ProcessIndex::holders(pid_t pid) const {
    auto it = by_pid_.find(pid);
    return it == by_pid_.end() ? kNone : it->second;
}

void ProcessIndex::mark_gone(size_t index, uint64_t t) {
    auto [gone, fresh] = gone_ns_.try_emplace(index, t);
    if (!fresh && t < gone->second) gone->second = t;
}

// A ChildStart opens a process, so it cannot belong to a holder that has ended (at() checks
// that), and nothing is sent after the holder was reaped.
bool ProcessIndex::speaks_for_successor(const wire::RecordHeader& h, uint64_t t) const {
    auto it = current_.find(h.pid);
    if (it == current_.end()) return false;
    if (h.type == static_cast<uint16_t>(wire::RecordType::kChildStart)) return true;
    auto gone = gone_ns_.find(it->second);
    return gone != gone_ns_.end() && t > gone->second;
}

}  // namespace cowtrace::model

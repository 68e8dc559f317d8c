#include "recent_exits.hpp"

namespace cowtrace::collector {

void RecentExits::ended(pid_t pid, uint64_t t_ns) {
    end_of_[pid] = t_ns;
    in_order_.emplace_back(t_ns, pid);
    while (!in_order_.empty() && in_order_.front().first + kRememberNs < t_ns) {
        auto [t, old] = in_order_.front();
        in_order_.pop_front();
        auto it = end_of_.find(old);
        if (it != end_of_.end() && it->second == t) end_of_.erase(it);
    }
}

bool RecentExits::ended_after(pid_t pid, uint64_t t_ns) const {
    auto it = end_of_.find(pid);
    return it != end_of_.end() && t_ns <= it->second;
}

}  // namespace cowtrace::collector

#include "sampling_delay.hpp"

#include <fmt/format.h>

namespace cowtrace::collector {

void SamplingDelay::hold_off(pid_t child, uint64_t fork_t_ns) {
    forget(child);
    uint64_t due = fork_t_ns + hold_off_ns_;
    due_of_[child] = due;
    by_due_.emplace(due, child);
}

bool SamplingDelay::forget(pid_t child) {
    auto it = due_of_.find(child);
    if (it == due_of_.end()) return false;
    by_due_.erase({it->second, child});
    due_of_.erase(it);
    return true;
}

std::vector<pid_t> SamplingDelay::take_due(uint64_t now_ns) {
    std::vector<pid_t> due;
    while (!by_due_.empty() && by_due_.begin()->first <= now_ns) {
        pid_t child = by_due_.begin()->second;
        by_due_.erase(by_due_.begin());
        due_of_.erase(child);
        due.push_back(child);
    }
    return due;
}

std::optional<uint64_t> SamplingDelay::ns_until_next_due(uint64_t now_ns) const {
    if (by_due_.empty()) return std::nullopt;
    uint64_t due = by_due_.begin()->first;
    return due > now_ns ? due - now_ns : 0;
}

std::string SamplingDelay::unsampled_reason(uint64_t fork_t_ns, uint64_t ended_t_ns) const {
    std::string hold_off = fmt::format("{:g} ms", static_cast<double>(hold_off_ns_) / 1e6);
    if (ended_t_ns < fork_t_ns + hold_off_ns_)
        return "ended within " + hold_off + " of its fork, before its page faults were sampled";
    return "ended before its page faults were sampled: they are sampled from " + hold_off +
           " after the fork, and the collector was behind";
}

}  // namespace cowtrace::collector

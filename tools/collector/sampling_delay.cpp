#include "sampling_delay.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace cowtrace::collector {

void SamplingDelay::hold_off(pid_t child, pid_t parent, uint64_t fork_t_ns) {
    forget(child);
    uint64_t hold = hold_off_ns_for(parent);
    uint64_t due = fork_t_ns + hold;
    due_of_[child] = Held{due, hold};
    by_due_.emplace(due, child);
}

bool SamplingDelay::forget(pid_t child, uint64_t* hold_ns) {
    auto it = due_of_.find(child);
    if (it == due_of_.end()) return false;
    by_due_.erase({it->second.due_ns, child});
    if (hold_ns != nullptr) *hold_ns = it->second.hold_ns;
    due_of_.erase(it);
    return true;
}

void SamplingDelay::ended(pid_t parent, uint64_t fork_t_ns, uint64_t ended_t_ns) {
    if (ended_t_ns >= fork_t_ns + kLongHoldOffNs) {
        quick_.erase(parent);
        return;
    }
    if (quick_.size() > 65536) quick_.clear();  // parents long gone: only a streak is lost
    uint32_t& streak = quick_[parent];
    if (streak < kQuickStreak) ++streak;
}

uint64_t SamplingDelay::hold_off_ns_for(pid_t parent) const {
    auto it = quick_.find(parent);
    bool quick = it != quick_.end() && it->second >= kQuickStreak;
    return quick ? std::max(hold_off_ns_, kLongHoldOffNs) : hold_off_ns_;
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

std::string SamplingDelay::unsampled_reason(uint64_t fork_t_ns, uint64_t ended_t_ns,
                                            uint64_t hold_ns) const {
    std::string hold_off = fmt::format("{:g} ms", static_cast<double>(hold_ns) / 1e6);
    if (ended_t_ns < fork_t_ns + hold_ns) {
        std::string reason =
            "ended within " + hold_off + " of its fork, before its page faults were sampled";
        if (hold_ns > hold_off_ns_)
            reason += fmt::format(
                " (its parent's last {} children all ended within {:g} ms: their faults are "
                "sampled from then)",
                kQuickStreak, static_cast<double>(kLongHoldOffNs) / 1e6);
        return reason;
    }
    return "ended before its page faults were sampled: they are sampled from " + hold_off +
           " after the fork, and the collector was behind";
}

}  // namespace cowtrace::collector

// When a fork episode's page faults begin to be sampled. Opening the perf events of both sides
// (one per thread and CPU) and closing them again costs the collector more than all the rest of
// a short episode: a shell's child execs within a millisecond of its fork, and a loop of them
// spent much of the collector's CPU on events that sampled nothing. So an episode is held off
// for a while after its fork and its events are opened only if it is still running then; one
// that ends earlier never opens any, and its attribution says why it has none
// (unsampled_reason) instead of reading as "no sampled fault fell on a copy". The copies of the
// first milliseconds of a longer episode go unsampled: the census still counts them.
//
// On a loaded machine a shell's child may take longer than the hold-off to exec, and every one
// of a loop's episodes opened its events again (787 of 1,000 at load 6). So the hold-off is
// longer for the children of a parent whose last kQuickStreak children all ended within
// kLongHoldOffNs of their fork: a shell, make; one child that lives longer ends the streak. A
// child that ended before its memory could be read counts as quick, however late that was.
//
// Pure bookkeeping, no clock of its own: the caller passes the times (CLOCK_MONOTONIC, the
// trace's clock, as fork times are), and opens what take_due() returns.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cowtrace::collector {

class SamplingDelay {
public:
    static constexpr uint64_t kHoldOffNs = 2'000'000;  // 2 ms: a spawn's exec comes within 1
    static constexpr uint64_t kLongHoldOffNs = 20'000'000;
    static constexpr uint32_t kQuickStreak = 8;

    explicit SamplingDelay(uint64_t hold_off_ns = kHoldOffNs) : hold_off_ns_(hold_off_ns) {}

    // child's episode began with its fork by parent at fork_t_ns: it is due at fork_t_ns + the
    // hold-off (at once if that has passed already). A pid held again replaces its earlier
    // episode.
    void hold_off(pid_t child, pid_t parent, uint64_t fork_t_ns);
    // Its episode ended or was cancelled: true if it was still held off (no events were opened
    // for it; *hold_ns, if given, says how long it was to be held), false if it had been taken
    // as due or was never held.
    bool forget(pid_t child, uint64_t* hold_ns = nullptr);
    // An episode of parent ended (held off or not): how long its children live.
    void ended(pid_t parent, uint64_t fork_t_ns, uint64_t ended_t_ns);
    // How long parent's next child will be held off.
    uint64_t hold_off_ns_for(pid_t parent) const;
    bool holds(pid_t child) const { return due_of_.count(child) != 0; }
    // The episodes due at now_ns, the earliest first: they are held no longer.
    std::vector<pid_t> take_due(uint64_t now_ns);
    // How long after now_ns the next episode is due (0: one is due already); none while
    // nothing is held off.
    std::optional<uint64_t> ns_until_next_due(uint64_t now_ns) const;
    size_t size() const { return due_of_.size(); }
    uint64_t hold_off_ns() const { return hold_off_ns_; }

    // Why an episode that ended while held off (for hold_ns) has no sampled faults, for its
    // CopyAttribution record: it ended within the hold-off (told at ended_t_ns), or later,
    // before the collector got round to opening its events.
    std::string unsampled_reason(uint64_t fork_t_ns, uint64_t ended_t_ns, uint64_t hold_ns) const;
    std::string unsampled_reason(uint64_t fork_t_ns, uint64_t ended_t_ns) const {
        return unsampled_reason(fork_t_ns, ended_t_ns, hold_off_ns_);
    }

private:
    struct Held {
        uint64_t due_ns;
        uint64_t hold_ns;
    };
    uint64_t hold_off_ns_;
    std::unordered_map<pid_t, Held> due_of_;       // child → when its events are to open
    std::unordered_map<pid_t, uint32_t> quick_;    // parent → its last children that ended soon
    std::set<std::pair<uint64_t, pid_t>> by_due_;  // the same, in the order they fall due
};

}  // namespace cowtrace::collector

// `cowtrace attach` without the kernel's process events (an older kernel, a container without
// the proc connector, or --poll-children): the attached processes' forks, execs and exits found
// by looking at /proc at the sampling interval. What happens between two looks is seen late or
// not at all: a child that forks and ends (or whose parent ends) within one interval is missed,
// an exec or exit is dated to the look that found it, and an exit's status is known only when
// the look finds the process a zombie (exited, not yet reaped). Read-only, as all of attach.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <vector>

#include "attached_processes.hpp"

namespace cowtrace::collector {

struct PolledEvent {
    enum class Kind { kFork, kExec, kExit } kind;
    pid_t pid = 0;
    uint64_t t_ns = 0;  // CLOCK_MONOTONIC: a fork at the child's start, the rest when found
    pid_t parent = 0;   // kFork
    // kFork: the child had not exec'd when found (a copy of its parent: an episode can start).
    bool still_a_copy = false;
    // kExit: the wait(2) status, when the process was found a zombie.
    bool status_known = false;
    int status = 0;
};

class ChildrenPoller {
public:
    ChildrenPoller() = default;
    ~ChildrenPoller();
    ChildrenPoller(const ChildrenPoller&) = delete;
    ChildrenPoller& operator=(const ChildrenPoller&) = delete;

    // Follows pid, alive now and already known to the trace: from now on its children, exec
    // and end are news.
    void follow(pid_t pid);
    // One look at every process followed: what changed since the last, parents' forks before
    // their children's, a child's fork before its exec.
    std::vector<PolledEvent> poll(uint64_t now_ns);
    size_t following() const { return known_.size(); }

private:
    struct Known {
        uint64_t start_ticks = 0;  // with the pid, who it is (a pid may be reused)
        ProcessStat layout;        // what exec last laid out
        int pagemap_fd = -1;       // bound to its address space: reads nothing once it exec'd
        // An exec found under way (its command line not yet in place): told on the next look.
        bool exec_pending = false;
    };
    // Whether pid has exec'd since k was taken (its address space replaced).
    static bool exec_since(const Known& k, const ProcessStat& now);
    // Whether pid has an address space now: none once an exit has begun, a new one at once
    // after an exec.
    static bool has_address_space(pid_t pid);
    void open_address_space(pid_t pid, Known& k);
    void forget(pid_t pid);

    std::map<pid_t, Known> known_;
};

}  // namespace cowtrace::collector

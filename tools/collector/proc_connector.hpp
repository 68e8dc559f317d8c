// The kernel's process events connector (netlink CN_IDX_PROC): fork, exec and exit, with exit
// statuses, for every process — traced or not. It is our second witness: it names what the
// shim could not see. Unprivileged since Linux 6.6 in the initial namespaces; lossy under load
// (ENOBUFS), which we count and report.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace cowtrace::collector {

struct KernelEvent {
    enum class Kind { kFork, kExec, kExit } kind;
    uint64_t t_ns;          // CLOCK_MONOTONIC, from the kernel
    pid_t pid;              // thread id
    pid_t tgid;             // process id
    pid_t parent_pid = 0;   // fork: the creating thread …
    pid_t parent_tgid = 0;  // … and process
    int exit_code = 0;      // exit: wait(2)-style status
};

class ProcConnector {
public:
    ProcConnector() = default;
    ~ProcConnector();
    ProcConnector(const ProcConnector&) = delete;
    ProcConnector& operator=(const ProcConnector&) = delete;

    // Subscribes; false with a reason when the kernel will not tell us.
    bool open(std::string& why_not);
    // Whether the events name processes as this process sees them: it forks a child that exits
    // at once and waits up to timeout_ms for that fork's event, discarding what else comes. In
    // a PID namespace other than the initial one (a container) the subscription succeeds but
    // the events carry the initial namespace's pids, or none come. Call before anything else
    // reads events.
    bool names_our_processes(int timeout_ms, std::string& why_not);
    int fd() const { return fd_; }

    // Reads everything queued, calling on_event for each; returns false when events were lost.
    template <class F>
    bool drain(F&& on_event);

    uint64_t lost() const { return lost_; }

private:
    bool read_one(KernelEvent& ev, bool& have_event, bool& again);

    int fd_ = -1;
    uint64_t lost_ = 0;
};

template <class F>
bool ProcConnector::drain(F&& on_event) {
    bool ok = true;
    for (;;) {
        KernelEvent ev{};
        bool have = false, again = false;
        if (!read_one(ev, have, again)) ok = false;
        if (again) break;
        if (have) on_event(ev);
    }
    return ok;
}

}  // namespace cowtrace::collector

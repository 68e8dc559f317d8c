// The processes that ended in the last few seconds, and when. Records travel on many sockets
// and the kernel's events on another: a fast child's Hello may be read after the kernel said it
// exited. News dated before a process's end must not bring it back to life (in the live set,
// the metrics, the processes a rotated trace carries over), while a later holder of the pid is a
// new process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <utility>

namespace cowtrace::collector {

class RecentExits {
public:
    // pid ended at t_ns; ends older than kRememberNs before it are forgotten.
    void ended(pid_t pid, uint64_t t_ns);
    // Is news about pid dated t_ns older than its end (so: about a process already gone)?
    bool ended_after(pid_t pid, uint64_t t_ns) const;
    size_t size() const { return end_of_.size(); }

    static constexpr uint64_t kRememberNs = 10'000'000'000ull;

private:
    std::unordered_map<pid_t, uint64_t> end_of_;
    std::deque<std::pair<uint64_t, pid_t>> in_order_;
};

}  // namespace cowtrace::collector

// The library creates a descriptor on the lowest free number (open, socket) and then moves it
// high; a host thread that closes a range of numbers it never opened (close_range to ~0,
// closefrom) and opens its own file at once could otherwise close ours in between and get our
// low number, and the move would then take the host's file and close the host's descriptor.
// Our creations and the host's range closes therefore exclude each other. A creation holds the
// lock for a few system calls; a waiter gives up after kMaxWaitNs (a holder that died, or a
// signal handler re-entering) and goes on, so nothing ever hangs on it. A forked child inherits
// no holder: the lock word names the holder's process, and a holder of another process is gone.
// A vfork child has a descriptor table of its own and never takes it.
// Async-signal-safe: atomics, raw system calls and the vDSO clock only.
#pragma once

#include <cstdint>

namespace cowtrace::shim {

class FdTableLock {
public:
    FdTableLock();
    ~FdTableLock();
    FdTableLock(const FdTableLock&) = delete;
    FdTableLock& operator=(const FdTableLock&) = delete;

    // Whether this section holds the lock (false: a vfork child, a nested section, a timeout).
    bool held() const { return held_ != 0; }

    static constexpr uint64_t kMaxWaitNs = 50'000'000;

private:
    uint64_t held_ = 0;  // our word in the lock, 0 when we went on without it
};

}  // namespace cowtrace::shim

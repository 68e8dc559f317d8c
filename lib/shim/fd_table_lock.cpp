#include "fd_table_lock.hpp"

#include <atomic>

#include "clock.hpp"
#include "process_state.hpp"
#include "raw_syscall.hpp"

namespace cowtrace::shim {

namespace {

// (holder's process id << 32) | holder's thread id; 0 = free.
std::atomic<uint64_t> g_holder{0};

uint64_t word_of(pid_t pid, pid_t tid) {
    return static_cast<uint64_t>(static_cast<uint32_t>(pid)) << 32 | static_cast<uint32_t>(tid);
}

}  // namespace

FdTableLock::FdTableLock() {
    pid_t me = raw_getpid();
    if (in_vfork_child(me)) return;
    uint64_t mine = word_of(me, raw_gettid());
    uint64_t deadline = 0;
    for (;;) {
        uint64_t seen = 0;
        if (g_holder.compare_exchange_strong(seen, mine, std::memory_order_acquire)) break;
        if (seen == mine) return;  // a signal handler inside our own section: go on
        // Held by a thread of the process we were forked from: that holder is not here.
        if (static_cast<pid_t>(seen >> 32) != me &&
            g_holder.compare_exchange_strong(seen, mine, std::memory_order_acquire)) {
            break;
        }
        uint64_t now = monotonic_ns();
        if (deadline == 0) deadline = now + kMaxWaitNs;
        if (now >= deadline) return;
        raw_syscall(SYS_sched_yield);
    }
    held_ = mine;
}

FdTableLock::~FdTableLock() {
    if (held_ == 0) return;
    uint64_t expected = held_;
    g_holder.compare_exchange_strong(expected, 0, std::memory_order_release);
}

}  // namespace cowtrace::shim

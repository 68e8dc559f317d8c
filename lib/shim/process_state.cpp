#include "process_state.hpp"

#include <linux/kcmp.h>

#include "raw_syscall.hpp"

namespace cowtrace::shim {

namespace {
ProcessState g_state;
}

COWTRACE_TLS uint32_t t_vfork_token = 0;
COWTRACE_TLS pid_t t_vfork_parent = 0;
COWTRACE_TLS uint32_t t_vfork_announced = 0;
COWTRACE_TLS bool t_in_fork_wrapper = false;
COWTRACE_TLS wire::CreateHow t_pending_how = wire::CreateHow::kUnknown;

ProcessState& process_state() {
    return g_state;
}

Caller current_caller() {
    Caller caller;
    caller.pid = raw_getpid();
    caller.tid = raw_gettid();
    caller.vfork_child = in_vfork_child(caller.pid);
    return caller;
}

bool in_vfork_child() {
    if (g_state.pid.load(std::memory_order_relaxed) == 0) return false;
    return in_vfork_child(raw_getpid());
}

bool in_vfork_child(pid_t me) {
    pid_t owner = g_state.pid.load(std::memory_order_relaxed);
    if (owner == 0 || me == owner) return false;
    // Another process runs with our globals: either it borrows our memory (vfork, CLONE_VM) or
    // it is a copy nobody told us about (raw clone). kcmp tells the two apart exactly.
    long same_vm = raw_syscall(SYS_kcmp, me, owner, KCMP_VM, 0, 0);
    if (same_vm == 0) return true;
    if (same_vm > 0) return false;
    return t_vfork_token != 0 && t_vfork_parent == owner;  // kcmp unavailable: trust the pre-hook
}

void adopt_process(pid_t pid) {
    g_state.pid.store(pid, std::memory_order_relaxed);
    g_state.seq.store(0, std::memory_order_relaxed);
    g_state.episode_open.store(false, std::memory_order_relaxed);
    g_state.fork_ns.store(0, std::memory_order_relaxed);
    g_state.own_connection.store(false, std::memory_order_relaxed);
    t_vfork_token = 0;
    t_vfork_parent = 0;
    t_vfork_announced = 0;
    t_in_fork_wrapper = false;
    t_pending_how = wire::CreateHow::kUnknown;
}

}  // namespace cowtrace::shim

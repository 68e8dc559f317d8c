// Per-process and per-thread facts the wrappers share. Everything here is an atomic or an
// initial-exec TLS variable: readable from signal handlers, vfork children and forked children
// of multithreaded programs without a lock or an allocation.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "wire/record.hpp"

namespace cowtrace::shim {

#define COWTRACE_TLS __attribute__((tls_model("initial-exec"))) __thread

struct ProcessState {
    std::atomic<pid_t> pid{0};              // the process these globals belong to
    std::atomic<uint32_t> seq{0};           // next record sequence number
    std::atomic<bool> episode_open{false};  // a fork child whose memory the collector compares
    std::atomic<uint64_t> fork_ns{0};       // when this process was forked (0: not a fork child)
    // The connection in use was opened by this process (false: inherited from the parent,
    // which a forked child shares until it needs answers of its own).
    std::atomic<bool> own_connection{false};
    std::atomic<uint32_t> next_token{1};  // tokens tie a vfork/spawn begin to its child
};

ProcessState& process_state();

// Set by the vfork/syscall pre-hooks in the parent thread just before the child borrows its
// memory. A vfork child reads them (never writes anything but t_vfork_announced).
extern COWTRACE_TLS uint32_t t_vfork_token;
extern COWTRACE_TLS pid_t t_vfork_parent;
extern COWTRACE_TLS uint32_t t_vfork_announced;
// True while our fork wrapper runs, so our pthread_atfork child handler leaves it to the wrapper.
extern COWTRACE_TLS bool t_in_fork_wrapper;
// How the next libc-internal fork came about (daemon, forkpty), for the atfork child handler.
extern COWTRACE_TLS wire::CreateHow t_pending_how;

// Who runs a wrapper: the process, the thread, and whether it borrows its parent's memory.
// Asked of the kernel once per event (a wrapper's run) and handed to every record the event
// sends. Never kept in memory between events: a vfork child shares that memory with its parent,
// a raw clone copies it, and neither tells us.
struct Caller {
    pid_t pid = 0;
    pid_t tid = 0;
    bool vfork_child = false;  // a vfork (or CLONE_VM) child: must not write globals
};

// getpid and gettid; kcmp only when the pid is not the one the globals belong to.
Caller current_caller();

// A vfork child (or a CLONE_VM child) runs on its parent's memory: it must not write globals.
// me: this process's pid (getpid), when the caller knows it already.
bool in_vfork_child();
bool in_vfork_child(pid_t me);

// Called in every new process we did not see being created by a wrapper (raw clone, …) and by
// child_after_fork: makes the globals belong to this process.
void adopt_process(pid_t pid);

}  // namespace cowtrace::shim

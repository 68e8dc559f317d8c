#include "init.hpp"

#include <pthread.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdlib>

#include "census_handshake.hpp"
#include "channel.hpp"
#include "clock.hpp"
#include "config.hpp"
#include "environment.hpp"
#include "errno_guard.hpp"
#include "process_state.hpp"
#include "raw_syscall.hpp"
#include "real_functions.hpp"
#include "records.hpp"

namespace cowtrace::shim {

namespace {

enum InitState : int { kNotStarted = 0, kRunning = 1, kDone = 2 };
std::atomic<int> g_init{kNotStarted};
std::atomic<bool> g_episode_was_open{false};

// A forked child asks for a final census only after this much life: one that execs or exits
// sooner (a shell's child runs its exec within a millisecond or two) never waits for the
// collector. The collector, which knows what a census of this child costs, decides for the
// others (tools/collector/cow_sampler.cpp: at most a small share of the child's life).
constexpr uint64_t kFinalCensusMinLifeNs = 10'000'000;

void send_child_start(const Caller& caller, wire::CreateHow how, pid_t parent, uint32_t token) {
    wire::ChildStart start;
    start.how = how;
    start.parent = parent;
    start.token = token;
    // Where a forked child writes on its way out of fork(), before the collector reads it.
    start.stack_pointer = reinterpret_cast<uint64_t>(__builtin_frame_address(0));
    __asm__("mov %%fs:0, %0" : "=r"(start.thread_pointer));
    send(start, caller);
}

// A libc-internal fork (daemon, forkpty) shows itself only here. Our own fork wrapper sets
// t_in_fork_wrapper and handles its child itself, after fork returns.
void atfork_child() {
    if (t_in_fork_wrapper) return;
    wire::CreateHow how =
        t_pending_how != wire::CreateHow::kUnknown ? t_pending_how : wire::CreateHow::kAtfork;
    child_after_fork(how, process_state().pid.load(std::memory_order_relaxed));
}

// Runs on exit() and on return from main, after the program's own handlers.
void on_process_exit(int status, void*) {
    ErrnoGuard errno_guard;
    process_ends(current_caller(), wire::ExitHow::kExit, status);
}

// argv: the program's arguments as the constructor was given them (nullptr: a late start).
Caller initialise(bool from_constructor, char* const* argv) {
    resolve_real_functions();
    bind_vdso_clock();
    load_config();
    prepare_environment_entries();
    Caller caller;
    caller.pid = raw_getpid();
    caller.tid = raw_gettid();
    adopt_process(caller.pid);
    uint32_t flags = wire::kHelloAfterExec;
    if (!from_constructor) flags |= wire::kHelloLateInit;
    if (config().secure_exec) flags |= wire::kHelloSecureExec;
    pthread_atfork(nullptr, nullptr, atfork_child);
    on_exit(on_process_exit, nullptr);
    send_hello(flags, argv, caller);
    return caller;
}

Caller ensure(bool from_constructor, char* const* argv) {
    int state = g_init.load(std::memory_order_acquire);
    if (state == kDone) {
        Caller caller = current_caller();
        pid_t owner = process_state().pid.load(std::memory_order_relaxed);
        if (caller.pid != owner && !caller.vfork_child) {
            // A copy of a process made behind our back (raw clone/fork syscall).
            adopt_process(caller.pid);
            channel_after_fork();
            send_child_start(caller, wire::CreateHow::kUnknown, owner, 0);
        }
        return caller;
    }
    int expected = kNotStarted;
    if (g_init.compare_exchange_strong(expected, kRunning, std::memory_order_acq_rel)) {
        Caller caller = initialise(from_constructor, argv);
        g_init.store(kDone, std::memory_order_release);
        return caller;
    }
    resolve_real_functions();  // another thread is initialising; the real calls suffice
    return current_caller();
}

// glibc passes an initialiser the program's argc, argv and envp: the Hello's arguments without
// opening /proc/self/cmdline.
__attribute__((constructor(101))) void cowtrace_constructor(int, char** argv, char**) {
    ErrnoGuard errno_guard;
    ensure(true, argv);
}

}  // namespace

Caller ensure_initialized() {
    return ensure(false, nullptr);
}

void child_after_fork(wire::CreateHow how, pid_t parent) {
    // A forked child is one thread, its process's first: its tid is its pid.
    Caller caller;
    caller.pid = raw_getpid();
    caller.tid = caller.pid;
    adopt_process(caller.pid);
    channel_after_fork();
    process_state().fork_ns.store(monotonic_ns(), std::memory_order_relaxed);
    // Nothing waits here: the collector reads the child's fork-time memory from outside when
    // this record reaches it (copies the child makes before that are attributed by place).
    send_child_start(caller, how, parent, 0);
    if (wire::copies_memory(how) && config().census_enabled) {
        process_state().episode_open.store(true, std::memory_order_relaxed);
    }
}

void announce_vfork_child(const Caller& caller) {
    if (!caller.vfork_child || t_vfork_announced == t_vfork_token) return;
    // The only write a vfork child makes to borrowed memory: a TLS word that the parent's next
    // vfork pre-hook overwrites anyway.
    t_vfork_announced = t_vfork_token;
    send_child_start(caller, wire::CreateHow::kVfork, t_vfork_parent, t_vfork_token);
}

void end_of_episode(const Caller& caller, wire::EpisodeEndReason reason) {
    if (caller.vfork_child) return;
    if (!process_state().episode_open.exchange(false, std::memory_order_relaxed)) return;
    g_episode_was_open.store(true, std::memory_order_relaxed);
    uint64_t life = monotonic_ns() - process_state().fork_ns.load(std::memory_order_relaxed);
    if (life >= kFinalCensusMinLifeNs) census_handshake(caller, wire::CensusKind::kFinal, reason);
}

void resume_episode(const Caller& caller) {
    if (caller.vfork_child) return;
    if (g_episode_was_open.exchange(false, std::memory_order_relaxed)) {
        process_state().episode_open.store(true, std::memory_order_relaxed);
    }
}

void process_ends(const Caller& caller, wire::ExitHow how, int code) {
    end_of_episode(caller, wire::EpisodeEndReason::kExit);
    wire::Exit exit;
    exit.how = how;
    exit.code = code;
    exit.minor_faults = own_minor_faults();
    send(exit, caller);
}

uint64_t own_minor_faults() {
    struct rusage usage {};
    if (raw_syscall(SYS_getrusage, RUSAGE_SELF, rs_arg(&usage)) != 0) return 0;
    return static_cast<uint64_t>(usage.ru_minflt);
}

}  // namespace cowtrace::shim

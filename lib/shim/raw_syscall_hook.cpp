// syscall(2) through libc: programs (and runtimes) that fork, exec or exit with a raw system
// call number. The trampoline calls this before tail-jumping to libc; nothing runs after the
// call, because a SYS_vfork or SYS_clone child returns on a stack we must not have a frame on.
#include <dlfcn.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/syscall.h>

#include "call_site.hpp"
#include "errno_guard.hpp"
#include "init.hpp"
#include "process_state.hpp"
#include "real_functions.hpp"
#include "records.hpp"

namespace shim = cowtrace::shim;
using cowtrace::wire::CreateHow;

namespace {
void begin_raw_creation(const shim::Caller& caller, bool shares_memory) {
    shim::CallSite site;
    shim::capture_call_site(site);
    cowtrace::wire::SpawnBegin begin;
    begin.how = CreateHow::kRawSyscall;
    begin.token = shim::process_state().next_token.fetch_add(1, std::memory_order_relaxed);
    begin.call_site = {site.frames, site.depth};
    shim::send(begin, caller);
    uint32_t token = begin.token;
    if (shares_memory) {
        shim::t_vfork_token = token;
        shim::t_vfork_parent = shim::process_state().pid.load(std::memory_order_relaxed);
    }
}
// An exec through syscall(): recorded as attempted; the environment is the program's own.
void raw_exec_attempt(const shim::Caller& caller, const char* path, char* const* argv) {
    shim::announce_vfork_child(caller);
    shim::end_of_episode(caller, cowtrace::wire::EpisodeEndReason::kExec);
    cowtrace::wire::ExecAttempt attempt;
    attempt.path = path;
    attempt.argv = cowtrace::wire::TextList::of_array(argv);
    shim::send(attempt, caller);
}
}  // namespace

extern "C" __attribute__((visibility("hidden"))) void cowtrace_syscall_pre_hook(long number,
                                                                                long a1, long a2,
                                                                                long, long, long) {
    // The trampoline jumps to libc's syscall next: it must be known even when an allocator's
    // initialisation calls syscall() before our constructor (jemalloc does). One successful
    // lookup, nothing more: a failed dlsym allocates, and the allocator holds its lock here.
    if (cowtrace_real_syscall == nullptr) cowtrace_real_syscall = dlsym(RTLD_NEXT, "syscall");
    switch (number) {
        case SYS_fork:
        case SYS_vfork:
        case SYS_clone:
        case SYS_clone3:
        case SYS_execve:
        case SYS_execveat:
        case SYS_exit_group:
            break;
        default:
            return;  // the common case costs one comparison
    }
    shim::ErrnoGuard errno_guard;
    shim::Caller caller = shim::ensure_initialized();
    switch (number) {
        case SYS_fork:
            begin_raw_creation(caller, false);
            break;
        case SYS_vfork:
            begin_raw_creation(caller, true);
            break;
        case SYS_clone:
            if (!(a1 & CLONE_THREAD)) begin_raw_creation(caller, a1 & CLONE_VM);
            break;
        case SYS_clone3: {
            auto* args = reinterpret_cast<const clone_args*>(a1);
            if (args != nullptr && !(args->flags & CLONE_THREAD)) {
                begin_raw_creation(caller, args->flags & CLONE_VM);
            }
            break;
        }
        case SYS_execve:
            raw_exec_attempt(caller, reinterpret_cast<const char*>(a1),
                             reinterpret_cast<char* const*>(a2));
            break;
        case SYS_execveat:
            raw_exec_attempt(caller, reinterpret_cast<const char*>(a2), nullptr);
            break;
        case SYS_exit_group:
            shim::announce_vfork_child(caller);
            shim::process_ends(caller, cowtrace::wire::ExitHow::kRawSyscall, static_cast<int>(a1));
            break;
    }
}

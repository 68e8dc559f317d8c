// Wrappers for every way a program creates a process. Calls inside glibc are direct, so each
// public entry point needs its own wrapper (system, popen and wordexp never reach posix_spawn;
// daemon and forkpty never reach fork — our pthread_atfork handler sees those).
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <wordexp.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "call_site.hpp"
#include "config.hpp"
#include "environment.hpp"
#include "errno_guard.hpp"
#include "exec_target.hpp"
#include "init.hpp"
#include "process_state.hpp"
#include "raw_syscall.hpp"
#include "real_functions.hpp"
#include "records.hpp"

using cowtrace::wire::CreateHow;
namespace shim = cowtrace::shim;
namespace wire = cowtrace::wire;

namespace {

uint32_t new_token() {
    return shim::process_state().next_token.fetch_add(1, std::memory_order_relaxed);
}

wire::U64List frames_of(const shim::CallSite& site) {
    return {site.frames, site.depth};
}

// The parent's record of a creation: the child, or the failure.
void send_created(const shim::Caller& caller, CreateHow how, pid_t child, int error,
                  const shim::CallSite& site, uint64_t clone_flags = 0) {
    wire::Created created;
    created.how = how;
    created.child = child;
    created.error = error;
    created.clone_flags = clone_flags;
    created.call_site = frames_of(site);
    shim::send(created, caller);
}

// A creation whose child the caller never names (system, popen, wordexp, daemon, vfork): the
// child claims it.
void send_spawn_begin(const shim::Caller& caller, CreateHow how, uint32_t token) {
    shim::CallSite site;
    shim::capture_call_site(site);
    wire::SpawnBegin begin;
    begin.how = how;
    begin.token = token;
    begin.call_site = frames_of(site);
    shim::send(begin, caller);
}

// Marks the vfork (or CLONE_VM) child to come: it borrows this thread's memory, and its records
// say whose child it is with the token.
void expect_memory_sharing_child(uint32_t token) {
    shim::t_vfork_token = token;
    shim::t_vfork_parent = shim::process_state().pid.load(std::memory_order_relaxed);
}

template <class RealFork>
pid_t fork_like(CreateHow how, const RealFork& real_fn) {
    shim::ErrnoGuard errno_guard;
    shim::Caller caller = shim::ensure_initialized();
    shim::CallSite site;
    shim::capture_call_site(site);
    pid_t parent = caller.pid;
    // Restored, not cleared: a signal handler that forks while this wrapper runs (glibc's fork
    // runs atfork handlers and takes locks before the system call) would otherwise clear it for
    // this call, whose child would then be announced twice (atfork handler and wrapper).
    bool outer = shim::t_in_fork_wrapper;
    shim::t_in_fork_wrapper = true;
    errno_guard.restore();
    pid_t pid = real_fn();
    errno_guard.keep_result();
    shim::t_in_fork_wrapper = outer;
    if (pid == 0) {
        shim::child_after_fork(how, parent);
    } else {
        send_created(caller, how, pid, pid < 0 ? errno : 0, site);
    }
    return pid;
}

template <class RealSpawn>
int spawn_like(CreateHow how, const RealSpawn& real_fn, pid_t* pid, const char* path,
               const posix_spawn_file_actions_t* actions, const posix_spawnattr_t* attr,
               char* const argv[], char* const envp[], bool search_path) {
    shim::ErrnoGuard errno_guard;
    shim::Caller caller = shim::ensure_initialized();
    shim::CallSite site;
    shim::capture_call_site(site);
    shim::ChildEnvironment env(envp);
    char resolved[shim::kPathBytes];
    bool found =
        !search_path || shim::resolve_in_path(path, getenv("PATH"), resolved, sizeof resolved);
    const char* target = search_path && found ? resolved : path;
    char image[shim::kPathBytes];
    if (!found || !shim::absolute_exec_path(AT_FDCWD, target, 0, image, sizeof image)) {
        image[0] = '\0';
    }
    wire::Created created;
    created.how = how;
    created.call_site = frames_of(site);
    created.spawn_path = path;
    created.spawn_argv = wire::TextList::of_array(argv);
    created.spawn_image = image;
    // No retry after E2BIG here: the failed child would be a process the program never made.
    if (env.give_up_if_too_big(target, argv)) created.image_flags |= wire::kImageNoPreload;
    pid_t local = 0;
    pid_t* out = pid != nullptr ? pid : &local;
    errno_guard.restore();
    int rc = real_fn(out, path, actions, attr, argv, env.get());
    errno_guard.keep_result();
    created.child = rc == 0 ? *out : -1;
    created.error = rc;
    shim::send(created, caller);
    return rc;
}

// Runs first in a clone child that copied our memory (no CLONE_VM).
struct CloneStart {
    int (*fn)(void*);
    void* arg;
    pid_t parent;
};

int clone_child_entry(void* p) {
    CloneStart start = *static_cast<CloneStart*>(p);
    shim::child_after_fork(CreateHow::kClone, start.parent);
    return start.fn(start.arg);
}

}  // namespace

COWTRACE_EXPORT pid_t fork() {
    return fork_like(CreateHow::kFork, shim::real::fork);
}

COWTRACE_EXPORT pid_t _Fork() {
    return fork_like(CreateHow::kUnderscoreFork, shim::real::_Fork);
}

// Called from the vfork trampoline in the parent, before the child borrows its memory.
extern "C" __attribute__((visibility("hidden"))) void cowtrace_vfork_pre_hook() {
    shim::ErrnoGuard errno_guard;
    shim::Caller caller = shim::ensure_initialized();
    uint32_t token = new_token();
    send_spawn_begin(caller, CreateHow::kVfork, token);
    expect_memory_sharing_child(token);
}

COWTRACE_EXPORT int clone(int (*fn)(void*), void* stack, int flags, void* arg, ...) {
    va_list ap;
    va_start(ap, arg);
    // glibc's clone reads these three unconditionally too.
    pid_t* parent_tid = va_arg(ap, pid_t*);
    void* tls = va_arg(ap, void*);
    pid_t* child_tid = va_arg(ap, pid_t*);
    va_end(ap);
    if (flags & CLONE_THREAD) {
        return shim::real::clone(fn, stack, flags, arg, parent_tid, tls, child_tid);
    }
    shim::ErrnoGuard errno_guard;
    shim::Caller caller = shim::ensure_initialized();
    shim::CallSite site;
    shim::capture_call_site(site);
    if (flags & CLONE_VM) {
        uint32_t token = new_token();
        wire::SpawnBegin begin;
        begin.how = CreateHow::kClone;
        begin.token = token;
        begin.call_site = frames_of(site);
        shim::send(begin, caller);
        expect_memory_sharing_child(token);
    }
    CloneStart start{fn, arg, caller.pid};
    errno_guard.restore();
    int rc = (flags & CLONE_VM)
                 ? shim::real::clone(fn, stack, flags, arg, parent_tid, tls, child_tid)
                 : shim::real::clone(clone_child_entry, stack, flags, &start, parent_tid, tls,
                                     child_tid);
    errno_guard.keep_result();
    send_created(caller, CreateHow::kClone, rc, rc < 0 ? errno : 0, site,
                 static_cast<uint64_t>(flags));
    return rc;
}

COWTRACE_EXPORT int posix_spawn(pid_t* pid, const char* path,
                                const posix_spawn_file_actions_t* actions,
                                const posix_spawnattr_t* attr, char* const argv[],
                                char* const envp[]) {
    return spawn_like(CreateHow::kPosixSpawn, shim::real::posix_spawn, pid, path, actions, attr,
                      argv, envp, false);
}

COWTRACE_EXPORT int posix_spawnp(pid_t* pid, const char* file,
                                 const posix_spawn_file_actions_t* actions,
                                 const posix_spawnattr_t* attr, char* const argv[],
                                 char* const envp[]) {
    return spawn_like(CreateHow::kPosixSpawnp, shim::real::posix_spawnp, pid, file, actions, attr,
                      argv, envp, true);
}

COWTRACE_EXPORT int system(const char* command) {
    shim::ErrnoGuard errno_guard;
    shim::Caller caller = shim::ensure_initialized();
    if (command != nullptr) send_spawn_begin(caller, CreateHow::kSystem, new_token());
    shim::EnvironSwap swap(command);
    errno_guard.restore();
    int rc = shim::real::system(command);
    errno_guard.keep_result();
    if (command != nullptr && rc != -1) {
        wire::WaitReaped reaped;
        reaped.call = wire::WaitCall::kSystem;
        reaped.status = rc;
        shim::send(reaped, caller);
    }
    return rc;
}

COWTRACE_EXPORT FILE* popen(const char* command, const char* mode) {
    shim::ErrnoGuard errno_guard;
    shim::Caller caller = shim::ensure_initialized();
    send_spawn_begin(caller, CreateHow::kPopen, new_token());
    shim::EnvironSwap swap(command);
    errno_guard.restore();
    FILE* f = shim::real::popen(command, mode);
    errno_guard.keep_result();
    return f;
}

COWTRACE_EXPORT int pclose(FILE* stream) {
    shim::ErrnoGuard errno_guard;
    int rc = shim::real::pclose(stream);
    errno_guard.keep_result();
    if (rc != -1) {
        shim::Caller caller = shim::ensure_initialized();
        wire::WaitReaped reaped;
        reaped.call = wire::WaitCall::kPclose;
        reaped.status = rc;
        shim::send(reaped, caller);
    }
    return rc;
}

COWTRACE_EXPORT int wordexp(const char* words, wordexp_t* result, int flags) {
    shim::ErrnoGuard errno_guard;
    shim::Caller caller = shim::ensure_initialized();
    if (!(flags & WRDE_NOCMD)) send_spawn_begin(caller, CreateHow::kWordexp, new_token());
    shim::EnvironSwap swap(words);
    errno_guard.restore();
    int rc = shim::real::wordexp(words, result, flags);
    errno_guard.keep_result();
    return rc;
}

COWTRACE_EXPORT int daemon(int nochdir, int noclose) {
    shim::ErrnoGuard errno_guard;
    shim::Caller caller = shim::ensure_initialized();
    send_spawn_begin(caller, CreateHow::kDaemon, new_token());
    shim::t_pending_how = CreateHow::kDaemon;
    errno_guard.restore();
    int rc = shim::real::daemon(nochdir, noclose);  // the parent _exits inside glibc
    errno_guard.keep_result();
    shim::t_pending_how = CreateHow::kUnknown;
    return rc;
}

COWTRACE_EXPORT pid_t forkpty(int* amaster, char* name, const struct termios* termp,
                              const struct winsize* winp) {
    shim::ErrnoGuard errno_guard;
    shim::Caller caller = shim::ensure_initialized();
    shim::CallSite site;
    shim::capture_call_site(site);
    shim::t_pending_how = CreateHow::kForkpty;
    errno_guard.restore();
    pid_t pid = shim::real::forkpty(amaster, name, termp, winp);
    errno_guard.keep_result();
    shim::t_pending_how = CreateHow::kUnknown;
    if (pid != 0) send_created(caller, CreateHow::kForkpty, pid, pid < 0 ? errno : 0, site);
    return pid;
}

// Wrappers for every way a program creates a process. Calls inside glibc are direct, so each
// public entry point needs its own wrapper (system, popen and wordexp never reach posix_spawn;
// daemon and forkpty never reach fork — our pthread_atfork handler sees those).
#include <sched.h>
#include <spawn.h>
#include <wordexp.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "call_site.hpp"
#include "config.hpp"
#include "environment.hpp"
#include "image_probe.hpp"
#include "init.hpp"
#include "process_state.hpp"
#include "raw_syscall.hpp"
#include "real_functions.hpp"
#include "records.hpp"

using cowtrace::wire::CreateHow;
namespace shim = cowtrace::shim;

namespace {

uint32_t new_token() {
    return shim::process_state().next_token.fetch_add(1, std::memory_order_relaxed);
}

pid_t fork_like(CreateHow how, pid_t (*real_fn)()) {
    int saved = errno;
    shim::ensure_initialized();
    shim::CallSite site;
    shim::capture_call_site(site);
    pid_t parent = shim::raw_getpid();
    errno = saved;
    // Restored, not cleared: a signal handler that forks while this wrapper runs (glibc's fork
    // runs atfork handlers and takes locks before the system call) would otherwise clear it for
    // this call, whose child would then be announced twice (atfork handler and wrapper).
    bool outer = shim::t_in_fork_wrapper;
    shim::t_in_fork_wrapper = true;
    pid_t pid = real_fn();
    int err = errno;
    shim::t_in_fork_wrapper = outer;
    if (pid == 0) {
        shim::child_after_fork(how, parent);
    } else {
        shim::send_created(how, pid, pid < 0 ? err : 0, 0, site, nullptr, 0, nullptr);
    }
    errno = err;
    return pid;
}

int spawn_like(CreateHow how, decltype(shim::RealFunctions::posix_spawn) real_fn, pid_t* pid,
               const char* path, const posix_spawn_file_actions_t* actions,
               const posix_spawnattr_t* attr, char* const argv[], char* const envp[],
               bool search_path) {
    int saved = errno;
    shim::ensure_initialized();
    shim::CallSite site;
    shim::capture_call_site(site);
    shim::ChildEnvironment env(envp);
    char resolved[shim::kPathBytes];
    uint32_t image = 0;
    bool found =
        !search_path || shim::resolve_in_path(path, getenv("PATH"), resolved, sizeof resolved);
    if (found) image = shim::probe_image(search_path ? resolved : path);
    // No retry after E2BIG here: the failed child would be a process the program never made.
    if (env.give_up_if_too_big(search_path && found ? resolved : path, argv)) {
        image |= cowtrace::wire::kImageNoPreload;
    }
    pid_t local = 0;
    pid_t* out = pid != nullptr ? pid : &local;
    errno = saved;
    int rc = real_fn(out, path, actions, attr, argv, env.get());
    int err = errno;
    shim::send_created(how, rc == 0 ? *out : -1, rc, 0, site, path, image, argv);
    errno = err;
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

// A creation whose child the caller never names (system, popen, wordexp, daemon).
void begin_unnamed_spawn(CreateHow how) {
    shim::CallSite site;
    shim::capture_call_site(site);
    shim::send_spawn_begin(how, new_token(), site);
}

}  // namespace

COWTRACE_EXPORT pid_t fork() { return fork_like(CreateHow::kFork, shim::real().fork); }

COWTRACE_EXPORT pid_t _Fork() {
    return fork_like(CreateHow::kUnderscoreFork, shim::real().underscore_fork);
}

// Called from the vfork trampoline in the parent, before the child borrows its memory.
extern "C" __attribute__((visibility("hidden"))) void cowtrace_vfork_pre_hook() {
    shim::ErrnoGuard guard;
    shim::ensure_initialized();
    shim::CallSite site;
    shim::capture_call_site(site);
    uint32_t token = new_token();
    shim::send_spawn_begin(CreateHow::kVfork, token, site);
    shim::t_vfork_token = token;
    shim::t_vfork_parent = shim::process_state().pid.load(std::memory_order_relaxed);
}

COWTRACE_EXPORT int clone(int (*fn)(void*), void* stack, int flags, void* arg, ...) {
    va_list ap;
    va_start(ap, arg);
    // glibc's clone reads these three unconditionally too.
    pid_t* parent_tid = va_arg(ap, pid_t*);
    void* tls = va_arg(ap, void*);
    pid_t* child_tid = va_arg(ap, pid_t*);
    va_end(ap);
    if (flags & CLONE_THREAD) return shim::real().clone(fn, stack, flags, arg, parent_tid, tls, child_tid);

    int saved = errno;
    shim::ensure_initialized();
    shim::CallSite site;
    shim::capture_call_site(site);
    uint32_t token = 0;
    if (flags & CLONE_VM) {
        token = new_token();
        shim::send_spawn_begin(CreateHow::kClone, token, site);
        shim::t_vfork_token = token;
        shim::t_vfork_parent = shim::process_state().pid.load(std::memory_order_relaxed);
    }
    CloneStart start{fn, arg, shim::raw_getpid()};
    errno = saved;
    int rc = (flags & CLONE_VM)
                 ? shim::real().clone(fn, stack, flags, arg, parent_tid, tls, child_tid)
                 : shim::real().clone(clone_child_entry, stack, flags, &start, parent_tid, tls,
                                      child_tid);
    int err = errno;
    shim::send_created(CreateHow::kClone, rc, rc < 0 ? err : 0, static_cast<uint64_t>(flags), site,
                       nullptr, 0, nullptr);
    errno = err;
    return rc;
}

COWTRACE_EXPORT int posix_spawn(pid_t* pid, const char* path,
                                const posix_spawn_file_actions_t* actions,
                                const posix_spawnattr_t* attr, char* const argv[],
                                char* const envp[]) {
    return spawn_like(CreateHow::kPosixSpawn, shim::real().posix_spawn, pid, path, actions, attr,
                      argv, envp, false);
}

COWTRACE_EXPORT int posix_spawnp(pid_t* pid, const char* file,
                                 const posix_spawn_file_actions_t* actions,
                                 const posix_spawnattr_t* attr, char* const argv[],
                                 char* const envp[]) {
    return spawn_like(CreateHow::kPosixSpawnp, shim::real().posix_spawnp, pid, file, actions,
                      attr, argv, envp, true);
}

COWTRACE_EXPORT int system(const char* command) {
    int saved = errno;
    shim::ensure_initialized();
    if (command != nullptr) begin_unnamed_spawn(CreateHow::kSystem);
    shim::EnvironSwap swap(command);
    errno = saved;
    int rc = shim::real().system(command);
    int err = errno;
    if (command != nullptr && rc != -1) {
        shim::send_wait_reaped(cowtrace::wire::WaitCall::kSystem, -1, rc);
    }
    errno = err;
    return rc;
}

COWTRACE_EXPORT FILE* popen(const char* command, const char* mode) {
    int saved = errno;
    shim::ensure_initialized();
    begin_unnamed_spawn(CreateHow::kPopen);
    shim::EnvironSwap swap(command);
    errno = saved;
    FILE* f = shim::real().popen(command, mode);
    return f;
}

COWTRACE_EXPORT int pclose(FILE* stream) {
    int rc = shim::real().pclose(stream);
    int err = errno;
    if (rc != -1) {
        shim::ensure_initialized();
        shim::send_wait_reaped(cowtrace::wire::WaitCall::kPclose, -1, rc);
    }
    errno = err;
    return rc;
}

COWTRACE_EXPORT int wordexp(const char* words, wordexp_t* result, int flags) {
    int saved = errno;
    shim::ensure_initialized();
    bool may_spawn = !(flags & WRDE_NOCMD);
    if (may_spawn) begin_unnamed_spawn(CreateHow::kWordexp);
    shim::EnvironSwap swap(words);
    errno = saved;
    return shim::real().wordexp(words, result, flags);
}

COWTRACE_EXPORT int daemon(int nochdir, int noclose) {
    int saved = errno;
    shim::ensure_initialized();
    begin_unnamed_spawn(CreateHow::kDaemon);
    shim::t_pending_how = CreateHow::kDaemon;
    errno = saved;
    int rc = shim::real().daemon(nochdir, noclose);  // the parent _exits inside glibc
    shim::t_pending_how = CreateHow::kUnknown;
    return rc;
}

COWTRACE_EXPORT pid_t forkpty(int* amaster, char* name, const struct termios* termp,
                              const struct winsize* winp) {
    int saved = errno;
    shim::ensure_initialized();
    shim::CallSite site;
    shim::capture_call_site(site);
    shim::t_pending_how = CreateHow::kForkpty;
    errno = saved;
    pid_t pid = shim::real().forkpty(amaster, name, termp, winp);
    int err = errno;
    shim::t_pending_how = CreateHow::kUnknown;
    if (pid != 0) {
        shim::send_created(CreateHow::kForkpty, pid, pid < 0 ? err : 0, 0, site, nullptr, 0,
                           nullptr);
    }
    errno = err;
    return pid;
}

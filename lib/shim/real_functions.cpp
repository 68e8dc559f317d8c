#include "real_functions.hpp"

#include <dlfcn.h>

#include <atomic>

extern "C" {
void* cowtrace_real_vfork = nullptr;
void* cowtrace_real_syscall = nullptr;
void* cowtrace_real_dlopen = nullptr;
}

namespace cowtrace::shim {

namespace {
RealFunctions g_real{};
std::atomic<bool> g_resolved{false};

template <class T>
void next(T& slot, const char* name) {
    slot = reinterpret_cast<T>(dlsym(RTLD_NEXT, name));
}
template <class T>
void next_version(T& slot, const char* name, const char* version) {
    slot = reinterpret_cast<T>(dlvsym(RTLD_NEXT, name, version));
}
}  // namespace

const RealFunctions& real() {
    if (!g_resolved.load(std::memory_order_acquire)) resolve_real_functions();
    return g_real;
}

// Every name looked up here exists in glibc >= 2.34: a failed dlsym allocates, and wrappers may
// run inside an allocator's own initialisation.
void resolve_real_functions() {
    if (g_resolved.load(std::memory_order_acquire)) return;
    RealFunctions& r = g_real;
    next(r.fork, "fork");
    next(r.underscore_fork, "_Fork");
    next(r.clone, "clone");
    next_version(r.posix_spawn, "posix_spawn", "GLIBC_2.15");
    next_version(r.posix_spawnp, "posix_spawnp", "GLIBC_2.15");
    next_version(r.posix_spawn_compat, "posix_spawn", "GLIBC_2.2.5");
    next_version(r.posix_spawnp_compat, "posix_spawnp", "GLIBC_2.2.5");
    if (r.posix_spawn == nullptr) next(r.posix_spawn, "posix_spawn");
    if (r.posix_spawnp == nullptr) next(r.posix_spawnp, "posix_spawnp");
    next(r.system, "system");
    next(r.popen, "popen");
    next(r.pclose, "pclose");
    next(r.wordexp, "wordexp");
    next(r.daemon, "daemon");
    next(r.forkpty, "forkpty");
    next(r.execve, "execve");
    next(r.execvpe, "execvpe");
    next(r.fexecve, "fexecve");
    next(r.execveat, "execveat");
    next(r.exit, "exit");
    next(r.underscore_exit, "_exit");
    next(r.underscore_capital_exit, "_Exit");
    next(r.quick_exit, "quick_exit");
    next(r.abort, "abort");
    next(r.wait, "wait");
    next(r.waitpid, "waitpid");
    next(r.wait3, "wait3");
    next(r.wait4, "wait4");
    next(r.waitid, "waitid");
    next(r.close, "close");
    next(r.close_range, "close_range");
    next(r.closefrom, "closefrom");
    next(r.dup2, "dup2");
    next(r.dup3, "dup3");
    next(r.dlopen, "dlopen");
    cowtrace_real_vfork = dlsym(RTLD_NEXT, "vfork");
    cowtrace_real_syscall = dlsym(RTLD_NEXT, "syscall");
    cowtrace_real_dlopen = reinterpret_cast<void*>(r.dlopen);
    g_resolved.store(true, std::memory_order_release);
}

}  // namespace cowtrace::shim

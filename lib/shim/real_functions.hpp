// The libc functions our wrappers stand in front of: one line each in COWTRACE_REAL_FUNCTIONS,
// which declares real::NAME (called like the function itself) and its lookup. They are resolved
// all at once, with dlsym(RTLD_NEXT) (dlvsym where glibc keeps two versions), on first use:
// every name here exists in glibc >= 2.34, because a failed dlsym allocates and wrappers can run
// inside an allocator's own initialisation.
#pragma once

#include <dlfcn.h>
#include <pty.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wordexp.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

// X(name, version): version is the symbol version to bind (nullptr: the default one).
// posix_spawn[p]@GLIBC_2.15 are the current ones (the 2.2.5 versions lack the /bin/sh retry on
// ENOEXEC; README, Limits).
#define COWTRACE_REAL_FUNCTIONS(X) \
    X(fork, nullptr)               \
    X(_Fork, nullptr)              \
    X(clone, nullptr)              \
    X(posix_spawn, "GLIBC_2.15")   \
    X(posix_spawnp, "GLIBC_2.15")  \
    X(system, nullptr)             \
    X(popen, nullptr)              \
    X(pclose, nullptr)             \
    X(wordexp, nullptr)            \
    X(daemon, nullptr)             \
    X(forkpty, nullptr)            \
    X(execve, nullptr)             \
    X(execvpe, nullptr)            \
    X(fexecve, nullptr)            \
    X(execveat, nullptr)           \
    X(_exit, nullptr)              \
    X(_Exit, nullptr)              \
    X(quick_exit, nullptr)         \
    X(abort, nullptr)              \
    X(wait, nullptr)               \
    X(waitpid, nullptr)            \
    X(wait3, nullptr)              \
    X(wait4, nullptr)              \
    X(waitid, nullptr)             \
    X(close, nullptr)              \
    X(close_range, nullptr)        \
    X(closefrom, nullptr)          \
    X(dup2, nullptr)               \
    X(dup3, nullptr)               \
    X(dlopen, nullptr)

namespace cowtrace::shim {

// Idempotent; safe to call from several threads at once (each pointer gets the same value).
void resolve_real_functions();
extern std::atomic<bool> g_real_functions_resolved;

// A real libc function: called like the function, resolved on first use.
template <class Fn>
struct RealFunction {
    Fn fn = nullptr;

    template <class... Args>
    decltype(auto) operator()(Args... args) const {
        if (!g_real_functions_resolved.load(std::memory_order_acquire)) resolve_real_functions();
        return fn(args...);
    }
};

namespace real {
// glibc's nonnull and noreturn attributes do not carry over to a template argument: nothing to warn
// about, our pointers are called with what the host passed.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#define COWTRACE_DECLARE_REAL(name, version) \
    inline constinit RealFunction<decltype(&::name)> name{};
COWTRACE_REAL_FUNCTIONS(COWTRACE_DECLARE_REAL)
#undef COWTRACE_DECLARE_REAL
#pragma GCC diagnostic pop
}  // namespace real

}  // namespace cowtrace::shim

// Read by the assembly trampolines (vfork, syscall, dlopen), which must tail-jump.
extern "C" {
extern void* cowtrace_real_vfork;
extern void* cowtrace_real_syscall;
extern void* cowtrace_real_dlopen;
}

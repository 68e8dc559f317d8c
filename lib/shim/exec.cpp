// Wrappers for the exec family. They run in vfork children (Python's subprocess, dash): stack
// only, raw system calls, no allocation, no TLS writes. Each one records the attempt and the
// file it will run, puts our variables back into the environment if the program dropped them,
// and records a failure if the real call returns. glibc's execvp never passes through execve's
// wrapper, so each entry point has its own.
#include <alloca.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdlib>
#include <cstring>

#include "config.hpp"
#include "environment.hpp"
#include "errno_guard.hpp"
#include "exec_target.hpp"
#include "init.hpp"
#include "raw_syscall.hpp"
#include "real_functions.hpp"
#include "records.hpp"

namespace shim = cowtrace::shim;
namespace wire = cowtrace::wire;

namespace {

// Everything an exec wrapper does around the real call. The environment it builds must outlive
// the call, so it lives in the wrapper's frame.
class ExecAttempt {
public:
    // kernel_path: the name the kernel will copy (the resolved one after a PATH search), which
    // counts against the limit on arguments and environment. dirfd/at_flags: how the kernel
    // will find the file (execveat, fexecve).
    ExecAttempt(const char* path, const char* resolved, const char* kernel_path, int dirfd,
                int at_flags, char* const* argv, char* const* envp)
        : caller_(shim::ensure_initialized()), env_(envp) {
        shim::announce_vfork_child(caller_);
        shim::end_of_episode(caller_, wire::EpisodeEndReason::kExec);
        record_.path = path;
        bool same = resolved == nullptr || (path != nullptr && strcmp(path, resolved) == 0);
        record_.resolved_path = same ? "" : resolved;
        record_.argv = wire::TextList::of_array(argv);
        const char* file = resolved != nullptr ? resolved : path;
        if (!shim::absolute_exec_path(dirfd, file, at_flags, image_, sizeof image_)) {
            image_[0] = '\0';
        }
        record_.image = image_;
        record_.euid = static_cast<uint32_t>(shim::raw_syscall(SYS_geteuid));
        record_.egid = static_cast<uint32_t>(shim::raw_syscall(SYS_getegid));
        record_.minor_faults = shim::own_minor_faults();
        if (env_.give_up_if_too_big(kernel_path, argv))
            record_.image_flags |= wire::kImageNoPreload;
        record_.env_reinjected = env_.reinjected();
        shim::send(record_, caller_);
        errno_guard_.restore();
    }
    char* const* env() const { return env_.get(); }

    // The real call failed with err. When our variables took it over the kernel's limit after
    // all (E2BIG: a #! interpreter adds arguments), the exec is to be tried again with the
    // program's own environment: true then, with the trace told why.
    bool retry_without_us(int err) {
        if (!env_.give_up_after_e2big(err)) return false;
        send_failure(err);
        record_.image_flags |= wire::kImageNoPreload;
        record_.env_reinjected = false;
        shim::send(record_, caller_);
        errno_guard_.restore();
        return true;
    }

    // The real call returned: it failed. Returns its result with the real call's errno.
    int failed(int rc) {
        errno_guard_.keep_result();
        send_failure(errno);
        shim::resume_episode(caller_);
        return rc;
    }

private:
    void send_failure(int err) {
        wire::ExecFailed failure;
        failure.error = err;
        shim::send(failure, caller_);
    }

    shim::ErrnoGuard errno_guard_;
    shim::Caller caller_;  // one exec attempt: the process cannot change while it lasts
    shim::ChildEnvironment env_;
    wire::ExecAttempt record_;
    char image_[shim::kPathBytes];
};

int exec_path(const char* path, char* const argv[], char* const envp[]) {
    ExecAttempt attempt(path, nullptr, path, AT_FDCWD, 0, argv, envp);
    int rc = shim::real::execve(path, argv, attempt.env());
    if (attempt.retry_without_us(errno)) rc = shim::real::execve(path, argv, attempt.env());
    return attempt.failed(rc);
}

int exec_search(const char* file, char* const argv[], char* const envp[]) {
    char resolved[shim::kPathBytes];
    bool found = shim::resolve_in_path(file, getenv("PATH"), resolved, sizeof resolved);
    ExecAttempt attempt(file, found ? resolved : nullptr, found ? resolved : file, AT_FDCWD, 0,
                        argv, envp);
    int rc = shim::real::execvpe(file, argv, attempt.env());
    if (attempt.retry_without_us(errno)) rc = shim::real::execvpe(file, argv, attempt.env());
    return attempt.failed(rc);
}

// Collects execl-style variadic arguments (up to the terminating NULL) into argv on the
// caller's stack; the count comes first so the array can be sized.
#define COLLECT_VARIADIC_ARGV(first, argv_out, after_ap)                        \
    size_t argc_ = 1;                                                           \
    {                                                                           \
        va_list count_ap;                                                       \
        va_start(count_ap, first);                                              \
        while (va_arg(count_ap, char*) != nullptr) ++argc_;                     \
        va_end(count_ap);                                                       \
    }                                                                           \
    char** argv_out = static_cast<char**>(alloca((argc_ + 1) * sizeof(char*))); \
    va_list after_ap;                                                           \
    va_start(after_ap, first);                                                  \
    argv_out[0] = const_cast<char*>(first);                                     \
    for (size_t i_ = 1; i_ <= argc_; ++i_) argv_out[i_] = va_arg(after_ap, char*);

}  // namespace

COWTRACE_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) {
    return exec_path(path, argv, envp);
}

COWTRACE_EXPORT int execv(const char* path, char* const argv[]) {
    return exec_path(path, argv, environ);
}

COWTRACE_EXPORT int execvp(const char* file, char* const argv[]) {
    return exec_search(file, argv, environ);
}

COWTRACE_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) {
    return exec_search(file, argv, envp);
}

COWTRACE_EXPORT int execl(const char* path, const char* arg, ...) {
    COLLECT_VARIADIC_ARGV(arg, argv, ap)
    va_end(ap);
    return exec_path(path, argv, environ);
}

COWTRACE_EXPORT int execlp(const char* file, const char* arg, ...) {
    COLLECT_VARIADIC_ARGV(arg, argv, ap)
    va_end(ap);
    return exec_search(file, argv, environ);
}

COWTRACE_EXPORT int execle(const char* path, const char* arg, ...) {
    COLLECT_VARIADIC_ARGV(arg, argv, ap)
    char* const* envp = va_arg(ap, char* const*);  // follows the terminating NULL
    va_end(ap);
    return exec_path(path, argv, envp);
}

// The kernel names the file of an exec relative to a descriptor "/dev/fd/N[/path]": the
// longest such prefix, for the limit on arguments and environment.
constexpr char kDevFdName[] = "/dev/fd/2147483647/";

COWTRACE_EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) {
    ExecAttempt attempt("", nullptr, kDevFdName, fd, AT_EMPTY_PATH, argv, envp);
    int rc = shim::real::fexecve(fd, argv, attempt.env());
    if (attempt.retry_without_us(errno)) rc = shim::real::fexecve(fd, argv, attempt.env());
    return attempt.failed(rc);
}

COWTRACE_EXPORT int execveat(int dirfd, const char* path, char* const argv[], char* const envp[],
                             int flags) {
    // Relative to a descriptor, the name the kernel copies is longer than path: room for it.
    char name[sizeof kDevFdName + shim::kPathBytes];
    memcpy(name, kDevFdName, sizeof kDevFdName);
    strncat(name, path, shim::kPathBytes - 1);  // path is declared nonnull
    bool plain = path[0] == '/' || (dirfd == AT_FDCWD && path[0] != '\0');
    const char* kernel_path = plain ? path : name;
    ExecAttempt attempt(path, nullptr, kernel_path, dirfd, flags, argv, envp);
    int rc = shim::real::execveat(dirfd, path, argv, attempt.env(), flags);
    if (attempt.retry_without_us(errno)) {
        rc = shim::real::execveat(dirfd, path, argv, attempt.env(), flags);
    }
    return attempt.failed(rc);
}

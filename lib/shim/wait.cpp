// Wrappers for the wait family: what a parent reaps is the only in-process witness of a child
// killed by a signal. A status pointer the caller left NULL is replaced by our own, invisibly.
#include <sys/resource.h>
#include <sys/wait.h>

#include "errno_guard.hpp"
#include "init.hpp"
#include "real_functions.hpp"
#include "records.hpp"

namespace shim = cowtrace::shim;
using cowtrace::wire::WaitCall;

namespace {
void report(WaitCall call, pid_t pid, int status) {
    if (pid <= 0 || !(WIFEXITED(status) || WIFSIGNALED(status))) return;
    shim::ErrnoGuard errno_guard;
    shim::Caller caller = shim::ensure_initialized();
    cowtrace::wire::WaitReaped reaped;
    reaped.call = call;
    reaped.child = pid;
    reaped.status = status;
    shim::send(reaped, caller);
}
}  // namespace

COWTRACE_EXPORT pid_t wait(int* status) {
    int local = 0;
    pid_t r = shim::real::wait(status ? status : &local);
    report(WaitCall::kWait, r, status ? *status : local);
    return r;
}

COWTRACE_EXPORT pid_t waitpid(pid_t pid, int* status, int options) {
    int local = 0;
    pid_t r = shim::real::waitpid(pid, status ? status : &local, options);
    report(WaitCall::kWaitpid, r, status ? *status : local);
    return r;
}

COWTRACE_EXPORT pid_t wait3(int* status, int options, struct rusage* usage) {
    int local = 0;
    pid_t r = shim::real::wait3(status ? status : &local, options, usage);
    report(WaitCall::kWait3, r, status ? *status : local);
    return r;
}

COWTRACE_EXPORT pid_t wait4(pid_t pid, int* status, int options, struct rusage* usage) {
    int local = 0;
    pid_t r = shim::real::wait4(pid, status ? status : &local, options, usage);
    report(WaitCall::kWait4, r, status ? *status : local);
    return r;
}

COWTRACE_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t* info, int options) {
    siginfo_t local{};
    siginfo_t* si = info ? info : &local;
    int r = shim::real::waitid(idtype, id, si, options);
    if (r == 0 && !(options & WNOWAIT) && si->si_pid > 0) {
        // Back to the wait(2) status encoding the rest of cowtrace uses.
        int status = -1;
        if (si->si_code == CLD_EXITED) status = (si->si_status & 0xff) << 8;
        if (si->si_code == CLD_KILLED) status = si->si_status & 0x7f;
        if (si->si_code == CLD_DUMPED) status = (si->si_status & 0x7f) | 0x80;
        if (status != -1) report(WaitCall::kWaitid, si->si_pid, status);
    }
    return r;
}

// Wrappers for the ways a program ends itself. exit() and return from main are seen by the
// on_exit handler registered at initialisation (glibc calls its own exit internally, so an exit
// wrapper would miss return-from-main). Deaths by signal run none of this: the collector learns
// them from the reaping parent, its own subreaping and the kernel's proc connector.
#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include "errno_guard.hpp"
#include "init.hpp"
#include "real_functions.hpp"
#include "records.hpp"

namespace shim = cowtrace::shim;
using cowtrace::wire::ExitHow;

namespace {
void before_exit(ExitHow how, int code) {
    shim::ErrnoGuard errno_guard;
    shim::Caller caller = shim::ensure_initialized();
    shim::announce_vfork_child(caller);
    shim::process_ends(caller, how, code);
}
}  // namespace

COWTRACE_EXPORT void _exit(int status) {
    before_exit(ExitHow::kUnderscoreExit, status);
    shim::real::_exit(status);
    __builtin_unreachable();
}

COWTRACE_EXPORT void _Exit(int status) {
    before_exit(ExitHow::kUnderscoreCapitalExit, status);
    shim::real::_Exit(status);
    __builtin_unreachable();
}

COWTRACE_EXPORT void quick_exit(int status) {
    before_exit(ExitHow::kQuickExit, status);
    shim::real::quick_exit(status);
    __builtin_unreachable();
}

COWTRACE_EXPORT void abort() {
    before_exit(ExitHow::kAbort, SIGABRT);
    shim::real::abort();
    __builtin_unreachable();
}

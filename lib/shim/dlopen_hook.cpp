// dlopen: a plugin loaded with RTLD_DEEPBIND binds its own calls to libc directly, past every
// wrapper here. We cannot follow it, so the trace says it happened.
#include <dlfcn.h>

#include "errno_guard.hpp"
#include "init.hpp"
#include "records.hpp"

namespace shim = cowtrace::shim;

extern "C" __attribute__((visibility("hidden"))) void cowtrace_dlopen_pre_hook(const char* file,
                                                                               int mode) {
    shim::ErrnoGuard errno_guard;
    shim::Caller caller = shim::ensure_initialized();
    if (!(mode & RTLD_DEEPBIND)) return;
    cowtrace::wire::DlopenDeepbind deepbind;
    deepbind.path = file;
    shim::send(deepbind, caller);
}

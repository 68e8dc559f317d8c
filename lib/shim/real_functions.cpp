#include "real_functions.hpp"

extern "C" {
void* cowtrace_real_vfork = nullptr;
void* cowtrace_real_syscall = nullptr;
void* cowtrace_real_dlopen = nullptr;
}

namespace cowtrace::shim {

std::atomic<bool> g_real_functions_resolved{false};

namespace {
void* lookup(const char* name, const char* version) {
    void* fn = version != nullptr ? dlvsym(RTLD_NEXT, name, version) : nullptr;
    return fn != nullptr ? fn : dlsym(RTLD_NEXT, name);
}
}  // namespace

void resolve_real_functions() {
    if (g_real_functions_resolved.load(std::memory_order_acquire)) return;
#define COWTRACE_RESOLVE_REAL(name, version) \
    real::name.fn = reinterpret_cast<decltype(real::name.fn)>(lookup(#name, version));
    COWTRACE_REAL_FUNCTIONS(COWTRACE_RESOLVE_REAL)
#undef COWTRACE_RESOLVE_REAL
    cowtrace_real_vfork = dlsym(RTLD_NEXT, "vfork");
    cowtrace_real_syscall = dlsym(RTLD_NEXT, "syscall");
    cowtrace_real_dlopen = reinterpret_cast<void*>(real::dlopen.fn);
    g_real_functions_resolved.store(true, std::memory_order_release);
}

}  // namespace cowtrace::shim

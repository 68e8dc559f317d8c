#include "call_site.hpp"

#include <dlfcn.h>
#include <link.h>

#include <atomic>

#include "real_functions.hpp"

#ifndef COWTRACE_LIBUNWIND_SONAME
#define COWTRACE_LIBUNWIND_SONAME "libunwind.so.8"
#endif

namespace cowtrace::shim {

namespace {
using BacktraceFn = int (*)(void**, int);
std::atomic<BacktraceFn> g_backtrace{nullptr};
uintptr_t g_self_begin = 0;  // this library's text, to skip our own frames
uintptr_t g_self_end = 0;

int find_self(dl_phdr_info* info, size_t, void* data) {
    auto self = reinterpret_cast<uintptr_t>(data);
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
        uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
        uintptr_t end = begin + ph.p_memsz;
        if (self >= begin && self < end) {
            g_self_begin = begin;
            g_self_end = end;
            return 1;
        }
    }
    return 0;
}
}  // namespace

namespace {
std::atomic<bool> g_unwinder_tried{false};
}

bool load_unwinder() {
    if (g_backtrace.load(std::memory_order_acquire) != nullptr) return true;
    // Most processes never create one: the library is loaded on the first call site, not in
    // every exec'd image (a dlopen costs more than the rest of our start-up together).
    if (g_unwinder_tried.exchange(true)) return false;
    dl_iterate_phdr(find_self, reinterpret_cast<void*>(&load_unwinder));
    auto open = real().dlopen ? real().dlopen : &::dlopen;
    void* h = open(COWTRACE_LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) return false;
    auto fn = reinterpret_cast<BacktraceFn>(dlsym(h, "unw_backtrace"));
    if (fn == nullptr) return false;
    g_backtrace.store(fn, std::memory_order_release);
    return true;
}

void capture_call_site(CallSite& out) {
    out.depth = 0;
    BacktraceFn bt = g_backtrace.load(std::memory_order_acquire);
    if (bt == nullptr && load_unwinder()) bt = g_backtrace.load(std::memory_order_acquire);
    if (bt == nullptr) return;
    void* raw[wire::kMaxFrames + 8];
    int n = bt(raw, static_cast<int>(sizeof raw / sizeof raw[0]));
    for (int i = 0; i < n && out.depth < wire::kMaxFrames; ++i) {
        auto ip = reinterpret_cast<uintptr_t>(raw[i]);
        if (out.depth == 0 && ip >= g_self_begin && ip < g_self_end) continue;
        out.frames[out.depth++] = ip;
    }
}

}  // namespace cowtrace::shim

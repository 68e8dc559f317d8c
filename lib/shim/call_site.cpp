#include "call_site.hpp"

#include <elf.h>
#include <link.h>
#include <unwind.h>

// Call sites are unwound by libgcc's DWARF unwinder, linked into this library from libgcc_eh.a
// with its symbols hidden (lib/shim/CMakeLists.txt). It used to be libunwind, dlopen()ed on the
// first call site; the hostile-host tests (tests/e2e/hostile) found two ways that hurt hosts:
//  - libunwind validates addresses through a pipe whose descriptor numbers it keeps in a static
//    array. After a host closed every descriptor and opened its own files on those numbers,
//    libunwind read from them, closed them and re-created its pipe there: the host's next
//    writes to its file failed (fd_close_range_from_thread).
//  - the load ran on the first call site, which may be in a signal handler that interrupted
//    malloc: dlopen()'s allocations corrupted the heap (signal_storm: SIGSEGV, malloc asserts).
// libgcc's unwinder needs no loading, opens no descriptor and does not allocate: it finds
// unwind tables with _dl_find_object (glibc >= 2.35, lock-free, async-signal-safe).

extern "C" const ElfW(Ehdr) __ehdr_start;  // this library's own ELF header (set by the linker)

namespace cowtrace::shim {

namespace {

struct TextRange {
    uintptr_t begin = 0;
    uintptr_t end = 0;
};

// Our executable segment, read from our own program headers in memory: no lock, no call.
TextRange own_text() {
    const ElfW(Ehdr)* eh = &__ehdr_start;
    const auto* ph =
        reinterpret_cast<const ElfW(Phdr)*>(reinterpret_cast<const char*>(eh) + eh->e_phoff);
    uintptr_t base = reinterpret_cast<uintptr_t>(eh);  // where the segment at offset 0 went
    for (int i = 0; i < eh->e_phnum; ++i) {
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
            base -= ph[i].p_vaddr;
            break;
        }
    }
    for (int i = 0; i < eh->e_phnum; ++i) {
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
            return {base + ph[i].p_vaddr, base + ph[i].p_vaddr + ph[i].p_memsz};
        }
    }
    return {};
}

struct Walk {
    CallSite* out;
    TextRange self;
    bool in_our_frames;  // the innermost frames are ours: dropped
};

_Unwind_Reason_Code add_frame(_Unwind_Context* context, void* arg) {
    auto* walk = static_cast<Walk*>(arg);
    uintptr_t ip = _Unwind_GetIP(context);
    if (ip == 0) return _URC_END_OF_STACK;
    if (walk->in_our_frames && ip >= walk->self.begin && ip < walk->self.end) return _URC_NO_REASON;
    walk->in_our_frames = false;
    CallSite& out = *walk->out;
    out.frames[out.depth++] = ip;
    return out.depth < wire::kMaxFrames ? _URC_NO_REASON : _URC_END_OF_STACK;
}

}  // namespace

void capture_call_site(CallSite& out) {
    out.depth = 0;
    Walk walk{&out, own_text(), true};
    _Unwind_Backtrace(add_frame, &walk);
}

}  // namespace cowtrace::shim

#include "clock.hpp"

#include <elf.h>
#include <link.h>
#include <sys/auxv.h>

#include <cstring>

namespace cowtrace::shim {

std::atomic<VdsoClockGettime> g_vdso_clock_gettime{nullptr};

namespace {

constexpr char kVdsoClockGettime[] = "__vdso_clock_gettime";

// How many entries the dynamic symbol table has, from DT_HASH (its chain count) or, without it,
// from DT_GNU_HASH (one past the last symbol any bucket chain reaches). 0 when neither is there.
size_t symbol_count(const ElfW(Word) * sysv_hash, const uint32_t* gnu_hash) {
    if (sysv_hash != nullptr) return sysv_hash[1];
    if (gnu_hash == nullptr) return 0;
    uint32_t nbuckets = gnu_hash[0], symoffset = gnu_hash[1], bloom_words = gnu_hash[2];
    const uint32_t* buckets = gnu_hash + 4 + bloom_words * (sizeof(ElfW(Addr)) / sizeof(uint32_t));
    const uint32_t* chains = buckets + nbuckets;
    uint32_t last = 0;
    for (uint32_t b = 0; b < nbuckets; ++b) last = buckets[b] > last ? buckets[b] : last;
    if (last < symoffset) return symoffset;
    while ((chains[last - symoffset] & 1) == 0) ++last;  // the chain's end has bit 0 set
    return last + 1;
}

// The address of a defined function symbol of the vDSO, or nullptr (as the kernel's
// tools/testing/selftests/vDSO/parse_vdso.c finds it: program headers, then the dynamic section).
void* vdso_function(const char* name) {
    auto base = static_cast<uintptr_t>(getauxval(AT_SYSINFO_EHDR));
    if (base == 0) return nullptr;
    const auto* eh = reinterpret_cast<const ElfW(Ehdr)*>(base);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) {
        return nullptr;
    }
    const auto* ph = reinterpret_cast<const ElfW(Phdr)*>(base + eh->e_phoff);
    uintptr_t load_offset = 0;
    bool loaded = false;
    const ElfW(Dyn)* dyn = nullptr;
    for (int i = 0; i < eh->e_phnum; ++i) {
        if (ph[i].p_type == PT_LOAD && !loaded) {
            load_offset = base + ph[i].p_offset - ph[i].p_vaddr;
            loaded = true;
        } else if (ph[i].p_type == PT_DYNAMIC) {
            dyn = reinterpret_cast<const ElfW(Dyn)*>(base + ph[i].p_offset);
        }
    }
    if (!loaded || dyn == nullptr) return nullptr;
    const ElfW(Sym)* symtab = nullptr;
    const char* strtab = nullptr;
    const ElfW(Word)* sysv_hash = nullptr;
    const uint32_t* gnu_hash = nullptr;
    for (; dyn->d_tag != DT_NULL; ++dyn) {
        uintptr_t at = load_offset + dyn->d_un.d_ptr;
        if (dyn->d_tag == DT_SYMTAB) symtab = reinterpret_cast<const ElfW(Sym)*>(at);
        if (dyn->d_tag == DT_STRTAB) strtab = reinterpret_cast<const char*>(at);
        if (dyn->d_tag == DT_HASH) sysv_hash = reinterpret_cast<const ElfW(Word)*>(at);
        if (dyn->d_tag == DT_GNU_HASH) gnu_hash = reinterpret_cast<const uint32_t*>(at);
    }
    if (symtab == nullptr || strtab == nullptr) return nullptr;
    size_t count = symbol_count(sysv_hash, gnu_hash);
    for (size_t i = 0; i < count; ++i) {
        const ElfW(Sym)& sym = symtab[i];
        if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF) continue;
        if (strcmp(strtab + sym.st_name, name) == 0) {
            return reinterpret_cast<void*>(load_offset + sym.st_value);
        }
    }
    return nullptr;
}

}  // namespace

void bind_vdso_clock() {
    auto fn = reinterpret_cast<VdsoClockGettime>(vdso_function(kVdsoClockGettime));
    timespec probe{};
    // Used only if it answers now: a vDSO whose clock cannot be read from user space falls
    // back to the system call inside, and one that fails is not used at all.
    if (fn != nullptr && fn(CLOCK_MONOTONIC, &probe) == 0) {
        g_vdso_clock_gettime.store(fn, std::memory_order_relaxed);
    }
}

}  // namespace cowtrace::shim

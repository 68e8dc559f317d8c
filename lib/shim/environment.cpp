#include "environment.hpp"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "config.hpp"
#include "raw_syscall.hpp"

namespace cowtrace::shim {

namespace {

constexpr size_t kVarCount = sizeof wire::kLibraryVariables / sizeof wire::kLibraryVariables[0];
constexpr size_t kEntryBytes = kPathBytes + 48;
// The entries, back to back in one buffer (a page or so touched per image, not one per entry).
char g_entry_text[kVarCount * kEntryBytes + kPathBytes + 16];
char* g_entries[kVarCount];       // "COWTRACE_…=value", nullptr when unset
char* g_preload_entry = nullptr;  // "LD_PRELOAD=<our library>", nullptr when unknown

bool has_prefix(const char* s, const char* name, size_t name_len) {
    return strncmp(s, name, name_len) == 0 && s[name_len] == '=';
}

// Does an LD_PRELOAD value name our library? (space- or colon-separated list)
bool preload_names_us(const char* value) {
    const char* lib = config().lib_path;
    size_t len = strlen(lib);
    if (len == 0) return true;  // we do not know our own path: nothing to add
    for (const char* p = value; *p != '\0';) {
        while (*p == ':' || *p == ' ') ++p;
        const char* end = p;
        while (*end != '\0' && *end != ':' && *end != ' ') ++end;
        if (static_cast<size_t>(end - p) == len && strncmp(p, lib, len) == 0) return true;
        p = end;
    }
    return false;
}

}  // namespace

void prepare_environment_entries() {
    const ShimConfig& c = config();
    size_t used = 0;
    // "name=value" appended to g_entry_text; nullptr when value is empty or the entry too long.
    auto entry = [&used](const char* name, const char* value, size_t cap) -> char* {
        size_t n = strlen(name), v = strlen(value);
        if (v == 0 || n + 1 + v + 1 > cap || used + n + 1 + v + 1 > sizeof g_entry_text) {
            return nullptr;
        }
        char* e = g_entry_text + used;
        memcpy(e, name, n);
        e[n] = '=';
        memcpy(e + n + 1, value, v + 1);
        used += n + 1 + v + 1;
        return e;
    };
    auto set = [&entry](size_t i, const char* name, const char* value) {
        g_entries[i] = entry(name, value, kEntryBytes);
    };
    for (size_t i = 0; i < kVarCount; ++i) g_entries[i] = nullptr;
    set(0, wire::kEnvSocket, c.socket_path);
    set(1, wire::kEnvSpool, c.spool_path);
    if (!c.census_enabled) set(2, wire::kEnvCensus, "0");
    char num[16];
    auto itoa = [&num](int v) {
        char tmp[16];
        int d = 0;
        do {
            tmp[d++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        int i = 0;
        while (d > 0) num[i++] = tmp[--d];
        num[i] = '\0';
        return num;
    };
    if (c.send_timeout_ms != 1000) set(3, wire::kEnvSendTimeout, itoa(c.send_timeout_ms));
    if (c.census_timeout_ms != 5000) set(4, wire::kEnvCensusTimeout, itoa(c.census_timeout_ms));
    g_preload_entry = entry("LD_PRELOAD", c.lib_path, kPathBytes + 12);
}

ChildEnvironment::ChildEnvironment(char* const* envp) : original_(envp), result_(envp) {
    if (config().secure_exec || g_preload_entry == nullptr) return;
    size_t count = 0;
    bool found[kVarCount] = {};
    const char* preload = nullptr;
    for (; envp != nullptr && envp[count] != nullptr; ++count) {
        const char* e = envp[count];
        if (has_prefix(e, "LD_PRELOAD", 10)) preload = e + 11;
        for (size_t i = 0; i < kVarCount; ++i) {
            if (has_prefix(e, wire::kLibraryVariables[i], strlen(wire::kLibraryVariables[i])))
                found[i] = true;
        }
    }
    bool preload_ok = preload != nullptr && preload_names_us(preload);
    bool vars_ok = true;
    for (size_t i = 0; i < kVarCount; ++i) vars_ok = vars_ok && (found[i] || !g_entries[i]);
    if (preload_ok && vars_ok) return;

    size_t need = count + kVarCount + 2;
    char** out = inline_;
    if (need > kInlineEntries) {
        mapped_bytes_ = need * sizeof(char*);
        long p = raw_syscall(SYS_mmap, 0, mapped_bytes_, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p < 0 && p > -4096) return;  // no memory: leave the environment alone
        mapped_ = reinterpret_cast<char**>(p);
        out = mapped_;
    }
    size_t n = 0;
    for (size_t i = 0; i < count; ++i) {
        if (has_prefix(envp[i], "LD_PRELOAD", 10) && !preload_ok) continue;
        out[n++] = envp[i];
    }
    if (!preload_ok) {
        if (preload != nullptr && preload[0] != '\0') {
            // Ours first, then whatever the program wanted preloaded.
            size_t a = strlen(g_preload_entry), b = strlen(preload);
            if (a + 1 + b + 1 <= sizeof preload_) {
                memcpy(preload_, g_preload_entry, a);
                preload_[a] = ':';
                memcpy(preload_ + a + 1, preload, b + 1);
                out[n++] = preload_;
            } else {
                out[n++] = g_preload_entry;
            }
        } else {
            out[n++] = g_preload_entry;
        }
    }
    for (size_t i = 0; i < kVarCount; ++i) {
        if (!found[i] && g_entries[i]) out[n++] = g_entries[i];
    }
    out[n] = nullptr;
    result_ = out;
}

bool exec_fits(const char* path, char* const* argv, char* const* envp) {
    constexpr size_t kMaxArgStrlen = 32 * 4096;  // MAX_ARG_STRLEN, the NUL included
    rlimit stack{};
    size_t limit = 6u << 20;  // _STK_LIM / 4 * 3
    if (raw_syscall(SYS_prlimit64, 0, RLIMIT_STACK, 0, rs_arg(&stack)) == 0 &&
        stack.rlim_cur != RLIM_INFINITY && stack.rlim_cur / 4 < limit) {
        limit = stack.rlim_cur / 4;
    }
    if (limit < kMaxArgStrlen) limit = kMaxArgStrlen;  // ARG_MAX: 32 pages at least
    size_t used = sizeof(void*) + (path != nullptr ? strlen(path) + 1 : 1);  // top word, name
    char* const* lists[] = {argv, envp};
    for (char* const* v : lists) {
        for (size_t i = 0; v != nullptr && v[i] != nullptr; ++i) {
            size_t n = strlen(v[i]) + 1;
            if (n > kMaxArgStrlen) return false;
            used += n + sizeof(char*);
        }
    }
    if (argv == nullptr || argv[0] == nullptr) used += sizeof(char*);  // the kernel adds ""
    return used <= limit;
}

bool ChildEnvironment::give_up_if_too_big(const char* path, char* const* argv) {
    if (!reinjected() || exec_fits(path, argv, result_)) return false;
    result_ = original_;
    return true;
}

bool ChildEnvironment::give_up_after_e2big(int err) {
    if (err != E2BIG || !reinjected()) return false;
    result_ = original_;
    return true;
}

ChildEnvironment::~ChildEnvironment() {
    if (mapped_ != nullptr) raw_syscall(SYS_munmap, rs_arg(mapped_), mapped_bytes_);
}

EnvironSwap::EnvironSwap(const char* command) {
    // Only the rare program that scrubbed its own environ pays for this.
    ChildEnvironment probe(environ);
    char* sh_argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(command),
                       nullptr};
    if (!probe.reinjected() || probe.give_up_if_too_big("/bin/sh", sh_argv)) return;
    long p = raw_syscall(SYS_mmap, 0, sizeof(ChildEnvironment), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p < 0 && p > -4096) return;
    storage_ = reinterpret_cast<void*>(p);
    env_ = new (storage_) ChildEnvironment(environ);
    saved_ = environ;
    environ = const_cast<char**>(env_->get());
}

EnvironSwap::~EnvironSwap() {
    if (env_ == nullptr) return;
    if (environ == env_->get()) environ = saved_;
    env_->~ChildEnvironment();
    raw_syscall(SYS_munmap, rs_arg(storage_), sizeof(ChildEnvironment));
}

}  // namespace cowtrace::shim

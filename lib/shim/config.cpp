#include "config.hpp"

#include <dlfcn.h>
#include <sys/auxv.h>

#include <cstdlib>
#include <cstring>

namespace cowtrace::shim {

namespace {
ShimConfig g_config{};
char g_text[kSocketPathBytes + 2 * kPathBytes];  // the strings, back to back
size_t g_text_used = 0;

// src copied into g_text; "" when unset or not shorter than cap (a path we cannot honour).
const char* keep_bounded(const char* src, size_t cap) {
    if (src == nullptr) return "";
    size_t n = strnlen(src, cap);
    if (n >= cap || n == 0 || g_text_used + n + 1 > sizeof g_text) return "";
    char* dst = g_text + g_text_used;
    memcpy(dst, src, n + 1);
    g_text_used += n + 1;
    return dst;
}

int int_from_env(const char* name, int dflt, int lo, int hi) {
    const char* v = secure_getenv(name);
    if (v == nullptr || *v == '\0') return dflt;
    char* end = nullptr;
    long x = strtol(v, &end, 10);
    if (end == v || *end != '\0' || x < lo || x > hi) return dflt;
    return static_cast<int>(x);
}
}  // namespace

const ShimConfig& config() {
    return g_config;
}

void load_config() {
    ShimConfig& c = g_config;
    c.secure_exec = getauxval(AT_SECURE) != 0;
    // secure_getenv returns nothing in secure-execution mode: a setuid program never writes
    // where an unprivileged environment tells it to.
    g_text_used = 0;
    c.socket_path = keep_bounded(secure_getenv(wire::kEnvSocket), kSocketPathBytes);
    c.spool_path = keep_bounded(secure_getenv(wire::kEnvSpool), kPathBytes);
    const char* census = secure_getenv(wire::kEnvCensus);
    c.census_enabled = census == nullptr || strcmp(census, "0") != 0;
    c.send_timeout_ms = int_from_env(wire::kEnvSendTimeout, 1000, 1, 600000);
    c.census_timeout_ms = int_from_env(wire::kEnvCensusTimeout, 5000, 1, 600000);

    c.lib_path = "";
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&load_config), &info) != 0 && info.dli_fname != nullptr) {
        c.lib_path = keep_bounded(info.dli_fname, kPathBytes);
    }
}

}  // namespace cowtrace::shim

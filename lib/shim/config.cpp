#include "config.hpp"

#include <dlfcn.h>
#include <sys/auxv.h>

#include <cstdlib>
#include <cstring>

namespace cowtrace::shim {

namespace {
ShimConfig g_config{};

void copy_bounded(char* dst, size_t cap, const char* src) {
    dst[0] = '\0';
    if (src == nullptr) return;
    size_t n = strnlen(src, cap);
    if (n >= cap) return;  // too long to be a path we can honour: treat as unset
    memcpy(dst, src, n + 1);
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
    copy_bounded(c.socket_path, sizeof c.socket_path, secure_getenv(wire::kEnvSocket));
    copy_bounded(c.spool_path, sizeof c.spool_path, secure_getenv(wire::kEnvSpool));
    copy_bounded(c.ld_preload, sizeof c.ld_preload, getenv("LD_PRELOAD"));
    const char* census = secure_getenv(wire::kEnvCensus);
    c.census_enabled = census == nullptr || strcmp(census, "0") != 0;
    c.send_timeout_ms = int_from_env(wire::kEnvSendTimeout, 1000, 1, 600000);
    c.census_timeout_ms = int_from_env(wire::kEnvCensusTimeout, 5000, 1, 600000);

    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&load_config), &info) != 0 && info.dli_fname != nullptr) {
        copy_bounded(c.lib_path, sizeof c.lib_path, info.dli_fname);
    }
}

}  // namespace cowtrace::shim

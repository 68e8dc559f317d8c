// What the shim was told through its environment, captured once at initialisation into static
// storage, so exec and spawn wrappers can put it back into a child's environment even after the
// program removed it, without allocating.
#pragma once

#include <cstddef>

#include "wire/environment.hpp"

namespace cowtrace::shim {

inline constexpr size_t kPathBytes = 4096;

struct ShimConfig {
    char socket_path[108];        // COWTRACE_SOCKET: the collector's socket (sun_path size)
    char spool_path[kPathBytes];  // COWTRACE_SPOOL: where records go when no collector answers
    char lib_path[kPathBytes];    // this library's own path (dladdr)
    char ld_preload[kPathBytes];  // LD_PRELOAD as we found it
    bool census_enabled;          // COWTRACE_CENSUS != 0: children wait for baseline/final census
    int send_timeout_ms;          // COWTRACE_SEND_TIMEOUT_MS: longest a send may block the host
    int census_timeout_ms;        // COWTRACE_CENSUS_TIMEOUT_MS: longest a child waits for a census
    bool secure_exec;             // AT_SECURE: environment not trusted, nothing configured
};

const ShimConfig& config();

// Reads the environment (secure_getenv); called once from init.
void load_config();

}  // namespace cowtrace::shim

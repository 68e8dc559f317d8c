// What the shim was told through its environment, captured once at initialisation into static
// storage, so exec and spawn wrappers can put it back into a child's environment even after the
// program removed it, without allocating. The strings are packed one after another in one
// buffer: a new image touches a page of it, not a page per 4 KiB path (each first touch of a
// page is a page fault, in every exec'd program).
#pragma once

#include <cstddef>

#include "wire/environment.hpp"

namespace cowtrace::shim {

inline constexpr size_t kPathBytes = 4096;

inline constexpr size_t kSocketPathBytes = 108;  // sun_path

// Every string is NUL-terminated and shorter than its limit ("" when unset or too long).
struct ShimConfig {
    const char* socket_path = "";  // COWTRACE_SOCKET: the collector's socket (< 108 bytes)
    const char* spool_path = "";   // COWTRACE_SPOOL: where records go when no collector answers
    const char* lib_path = "";     // this library's own path (dladdr)
    bool census_enabled = false;   // COWTRACE_CENSUS != 0: children wait for baseline/final census
    int send_timeout_ms = 0;       // COWTRACE_SEND_TIMEOUT_MS: longest a send may block the host
    int census_timeout_ms = 0;     // COWTRACE_CENSUS_TIMEOUT_MS: longest a child waits for a census
    bool secure_exec = false;      // AT_SECURE: environment not trusted, nothing configured
};

const ShimConfig& config();

// Reads the environment (secure_getenv); called once from init.
void load_config();

}  // namespace cowtrace::shim

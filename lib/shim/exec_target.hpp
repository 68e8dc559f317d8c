// Which file an exec or spawn will run, as a path the collector can open later: the PATH search
// a bare name goes through, and a relative path made absolute. Facts only — what the file is
// (static, set-id, a script…) is for the collector to find out. Stack only, raw system calls:
// runs in vfork children.
#pragma once

#include <cstddef>

namespace cowtrace::shim {

// execvp's PATH search, to know which file a bare name will run. Writes into out and returns
// true if a candidate was found; out is file itself when it contains a '/'.
bool resolve_in_path(const char* file, const char* path_env, char* out, size_t cap);

// path as the kernel will find it, absolute: relative to the working directory (dirfd
// AT_FDCWD) or to the descriptor dirfd, or the descriptor itself (AT_EMPTY_PATH with an empty
// path). False (out empty) when it cannot be told.
bool absolute_exec_path(int dirfd, const char* path, int at_flags, char* out, size_t cap);

}  // namespace cowtrace::shim

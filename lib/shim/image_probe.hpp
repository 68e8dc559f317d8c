// What an exec target is, read from its first bytes before the exec: a static binary or a
// set-id program will not load the shim, so the trace must say so rather than go quiet.
// Stack only, raw system calls: runs in vfork children.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cowtrace::shim {

// ImageFlag bits (wire/record.hpp) for the program at path (following #! interpreters).
uint32_t probe_image(const char* path);
uint32_t probe_image_at(int dirfd, const char* path, int at_flags);

// execvp's PATH search, to know which file a bare name will run. Writes into out and returns
// true if a candidate was found; out is file itself when it contains a '/'.
bool resolve_in_path(const char* file, const char* path_env, char* out, size_t cap);

}  // namespace cowtrace::shim

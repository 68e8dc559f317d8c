#include "exec_target.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "raw_syscall.hpp"

namespace cowtrace::shim {

namespace {

// "/proc/self/fd/N" into out.
void fd_link_name(int fd, char (&out)[32]) {
    memcpy(out, "/proc/self/fd/", 15);
    char digits[12];
    int d = 0;
    for (unsigned v = static_cast<unsigned>(fd); v != 0 || d == 0; v /= 10) {
        digits[d++] = static_cast<char>('0' + v % 10);
    }
    size_t n = 14;
    while (d > 0) out[n++] = digits[--d];
    out[n] = '\0';
}

// The directory (or file) dirfd stands for, into out; its length, or 0.
size_t directory_of(int dirfd, char* out, size_t cap) {
    long n;
    if (dirfd == AT_FDCWD) {
        n = raw_syscall(SYS_getcwd, rs_arg(out), cap);  // the length with its NUL
        return n > 1 ? static_cast<size_t>(n - 1) : 0;
    }
    char link[32];
    fd_link_name(dirfd, link);
    n = raw_syscall(SYS_readlink, rs_arg(link), rs_arg(out), cap - 1);
    if (n <= 0) return 0;
    out[n] = '\0';
    return static_cast<size_t>(n);
}

}  // namespace

bool resolve_in_path(const char* file, const char* path_env, char* out, size_t cap) {
    if (file == nullptr || file[0] == '\0') return false;
    size_t flen = strlen(file);
    if (strchr(file, '/') != nullptr) {
        if (flen + 1 > cap) return false;
        memcpy(out, file, flen + 1);
        return true;
    }
    const char* p = path_env != nullptr ? path_env : "/bin:/usr/bin";
    for (;;) {
        const char* colon = strchr(p, ':');
        size_t dlen = colon ? static_cast<size_t>(colon - p) : strlen(p);
        if (dlen + 1 + flen + 1 <= cap) {
            size_t n = 0;
            if (dlen == 0) {
                out[n++] = '.';  // an empty PATH entry means the current directory
            } else {
                memcpy(out, p, dlen);
                n = dlen;
            }
            out[n++] = '/';
            memcpy(out + n, file, flen + 1);
            if (raw_syscall(SYS_faccessat, AT_FDCWD, rs_arg(out), X_OK, 0) == 0) return true;
        }
        if (colon == nullptr) return false;
        p = colon + 1;
    }
}

bool absolute_exec_path(int dirfd, const char* path, int at_flags, char* out, size_t cap) {
    out[0] = '\0';
    if (path == nullptr || cap < 2) return false;
    size_t plen = strlen(path);
    if (path[0] == '/') {
        if (plen + 1 > cap) return false;
        memcpy(out, path, plen + 1);
        return true;
    }
    if (plen == 0 && !(at_flags & AT_EMPTY_PATH)) return false;
    size_t n = directory_of(dirfd, out, cap);
    if (n == 0) return false;
    if (plen == 0) return true;  // the descriptor's own file (fexecve)
    if (n + 1 + plen + 1 > cap) {
        out[0] = '\0';
        return false;
    }
    out[n++] = '/';
    memcpy(out + n, path, plen + 1);
    return true;
}

}  // namespace cowtrace::shim

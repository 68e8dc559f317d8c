// Raw x86_64 system calls for the shim. They never touch errno (they return -errno) and never
// go through libc, so they cannot re-enter our own wrappers (close, dup2, syscall…) and are safe
// in vfork children, signal handlers and forked children of multithreaded programs.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>

#include <cstdint>

namespace cowtrace::shim {

inline long raw_syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6) {
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

inline long raw_syscall(long n, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0,
                        long a6 = 0) {
    return raw_syscall6(n, a1, a2, a3, a4, a5, a6);
}

template <class T>
inline long rs_arg(T v) {
    return (long)(v);
}

inline pid_t raw_getpid() {
    return static_cast<pid_t>(raw_syscall(SYS_getpid));
}
inline pid_t raw_gettid() {
    return static_cast<pid_t>(raw_syscall(SYS_gettid));
}
inline pid_t raw_getppid() {
    return static_cast<pid_t>(raw_syscall(SYS_getppid));
}
inline long raw_close(int fd) {
    return raw_syscall(SYS_close, fd);
}

}  // namespace cowtrace::shim

// The libc functions our wrappers stand in front of, resolved once with dlsym(RTLD_NEXT) (and
// dlvsym for the symbols glibc keeps in two versions). Lookups of symbols that may be missing
// happen here, at initialisation: a failed dlsym allocates.
#pragma once

#include <spawn.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <wordexp.h>

#include <cstdio>

struct termios;
struct winsize;

namespace cowtrace::shim {

struct RealFunctions {
    pid_t (*fork)();
    pid_t (*underscore_fork)();
    int (*clone)(int (*)(void*), void*, int, void*, ...);
    int (*posix_spawn)(pid_t*, const char*, const posix_spawn_file_actions_t*,
                       const posix_spawnattr_t*, char* const[], char* const[]);
    int (*posix_spawnp)(pid_t*, const char*, const posix_spawn_file_actions_t*,
                        const posix_spawnattr_t*, char* const[], char* const[]);
    decltype(posix_spawn) posix_spawn_compat;   // posix_spawn@GLIBC_2.2.5
    decltype(posix_spawnp) posix_spawnp_compat; // posix_spawnp@GLIBC_2.2.5
    int (*system)(const char*);
    FILE* (*popen)(const char*, const char*);
    int (*pclose)(FILE*);
    int (*wordexp)(const char*, wordexp_t*, int);
    int (*daemon)(int, int);
    pid_t (*forkpty)(int*, char*, const termios*, const winsize*);

    int (*execve)(const char*, char* const[], char* const[]);
    int (*execvpe)(const char*, char* const[], char* const[]);
    int (*fexecve)(int, char* const[], char* const[]);
    int (*execveat)(int, const char*, char* const[], char* const[], int);

    void (*exit)(int);
    void (*underscore_exit)(int);
    void (*underscore_capital_exit)(int);
    void (*quick_exit)(int);
    void (*abort)();

    pid_t (*wait)(int*);
    pid_t (*waitpid)(pid_t, int*, int);
    pid_t (*wait3)(int*, int, rusage*);
    pid_t (*wait4)(pid_t, int*, int, rusage*);
    int (*waitid)(idtype_t, id_t, siginfo_t*, int);

    int (*close)(int);
    int (*close_range)(unsigned, unsigned, int);
    void (*closefrom)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);

    void* (*dlopen)(const char*, int);
};

const RealFunctions& real();

// Idempotent; safe to call from several threads at once (each pointer gets the same value).
void resolve_real_functions();

}  // namespace cowtrace::shim

// Read by the assembly trampolines (vfork, syscall, dlopen), which must tail-jump.
extern "C" {
extern void* cowtrace_real_vfork;
extern void* cowtrace_real_syscall;
extern void* cowtrace_real_dlopen;
}

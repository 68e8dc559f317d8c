// raw_creation: processes made and ended by system calls issued without libc (inline `syscall`
// instructions, as Go's runtime does), which no wrapper can see:
//   a raw fork whose child ends with a raw exit_group(51)
//   a raw fork whose child calls libc's _exit(52) (the library notices it is in a new process)
//   a raw fork whose child execs a shell with a raw execve (exiting 53; the environment still
//   names the library, so the shell is traced again)
// The parent reaps each with libc's waitpid and exits 0. The trace must mark these children as
// created by an untraced mechanism, and the kernel's witness must record them all.
#include <sys/syscall.h>

#include "common.h"

extern char** environ;

static long raw1(long n, long a) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory");
    return r;
}

static long raw3(long n, long a, long b, long c) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t a = (pid_t)raw1(SYS_fork, 0);
    if (a == 0) raw1(SYS_exit_group, 51);
    expect_code("raw exit_group", wait_child(a, 30), 51);

    pid_t b = (pid_t)raw1(SYS_fork, 0);
    if (b == 0) _exit(52);
    expect_code("libc _exit", wait_child(b, 30), 52);

    pid_t c = (pid_t)raw1(SYS_fork, 0);
    if (c == 0) {
        static char* const argv[] = {"sh", "-c", "/bin/true; exit 53", NULL};
        raw3(SYS_execve, (long)"/bin/sh", (long)argv, (long)environ);
        raw1(SYS_exit_group, 127);
    }
    expect_code("raw execve", wait_child(c, 30), 53);
    printf("raw creations ended as expected: %s\n", g_failures == 0 ? "yes" : "no");
    return g_failures == 0 ? 0 : 1;
}

// Per-call cost of process creation, for comparing a run with libcowtrace.so preloaded (and no
// collector) against one without: what the shim costs a program that is not being traced.
//
//   shim_cost fork|spawn|vfork CALLS [--warmup N]
//
//   fork   fork(); the child _exits at once; waitpid
//   spawn  posix_spawn of /bin/true; waitpid
//   vfork  vfork(); the child _exits at once; waitpid
//
// Prints one line: "MODE CALLS wall_ns_per_call cpu_ns_per_call", where CPU is the user+system
// time of this process and of its reaped children (on a busy machine the wall time mostly
// measures waiting for a core; the CPU time is the work). The process touches no extra memory,
// so the figures are the fixed cost per call (the kernel's, libc's and the shim's).
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double cpu_ns(void) {
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    double us = 0;
    const struct timeval* tv[] = {&self.ru_utime, &self.ru_stime, &children.ru_utime,
                                  &children.ru_stime};
    for (int i = 0; i < 4; ++i) us += (double)tv[i]->tv_sec * 1e6 + (double)tv[i]->tv_usec;
    return us * 1e3;
}

static int one_call(const char* mode) {
    pid_t pid = -1;
    if (strcmp(mode, "fork") == 0) {
        pid = fork();
        if (pid == 0) _exit(0);
    } else if (strcmp(mode, "vfork") == 0) {
        pid = vfork();
        if (pid == 0) _exit(0);
    } else {
        char* argv[] = {(char*)"/bin/true", NULL};
        if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) != 0) return -1;
    }
    if (pid < 0) return -1;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return -1;
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 3 || (strcmp(argv[1], "fork") != 0 && strcmp(argv[1], "spawn") != 0 &&
                     strcmp(argv[1], "vfork") != 0)) {
        fprintf(stderr, "usage: shim_cost fork|spawn|vfork CALLS [--warmup N]\n");
        return 2;
    }
    const char* mode = argv[1];
    long calls = atol(argv[2]);
    long warmup = 20;
    if (argc == 5 && strcmp(argv[3], "--warmup") == 0) warmup = atol(argv[4]);
    for (long i = 0; i < warmup; ++i) {
        if (one_call(mode) != 0) {
            perror(mode);
            return 1;
        }
    }
    double t0 = now_ns(), c0 = cpu_ns();
    for (long i = 0; i < calls; ++i) {
        if (one_call(mode) != 0) {
            perror(mode);
            return 1;
        }
    }
    double t1 = now_ns(), c1 = cpu_ns();
    printf("%s %ld %.0f %.0f\n", mode, calls, (t1 - t0) / (double)calls, (c1 - c0) / (double)calls);
    return 0;
}

// Helpers shared by the hostile-host programs. Each program prints only what an untraced run
// would print identically (no pids, no timings), and exits non-zero on any surprise, so the
// harness can compare traced and untraced runs byte for byte.
#pragma once

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int g_failures = 0;

// Waits for pid (retrying EINTR: several programs run under signal storms). A child that has
// not ended after timeout_s is killed and counted as a failure: a host the tracer deadlocked
// must fail the test with a message, not hang it.
static inline int wait_child(pid_t pid, int timeout_s) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) return -1;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= timeout_s) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            printf("a child hung for %d s and was killed\n", timeout_s);
            ++g_failures;
            return -1;
        }
        struct timespec pause = {0, 200 * 1000};
        nanosleep(&pause, NULL);
    }
}

// True when status says the child exited with want_code; counts a failure otherwise.
static inline int expect_code(const char* what, int status, int want_code) {
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == want_code) return 1;
    if (status == -1)
        printf("%s: no status\n", what);
    else if (WIFSIGNALED(status))
        printf("%s: killed by signal %d, wanted code %d\n", what, WTERMSIG(status), want_code);
    else
        printf("%s: code %d, wanted %d\n", what, WEXITSTATUS(status), want_code);
    ++g_failures;
    return 0;
}

// write(2) of a whole string, for children that must not touch stdio.
static inline void say_fd(int fd, const char* s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

// signal_storm: processes created and exec'd under a storm of SIGCHLD, SIGALRM and SIGUSR1,
// delivered without SA_RESTART (so every blocking call of the tracer can see EINTR), with
// handlers that themselves fork and exec:
//   SIGUSR1 (from a storm process, every ~100 us)  fork + exec of a shell that exits 21
//   SIGALRM (an interval timer, every 500 us)       fork + _exit(22)
//   SIGCHLD (every child's end, and the storm's     vfork + exec of a shell that exits 23
//            SIGCHLDs to the whole process group, which also hit children before they exec)
// Handlers create processes only in the main process and only up to a budget. The program's
// very first process is created by the SIGALRM handler while the main thread is inside
// malloc/free (whatever the tracer sets up on its first creation runs in that handler). Then
// the main loop forks, vforks, posix_spawns and system()s under the full storm. At the end
// every handler child must have ended as its handler meant; the number of them varies from run
// to run and is not printed.
#include <spawn.h>
#include <stdlib.h>
#include <sys/time.h>

#include "common.h"

extern char** environ;

enum { kMainChildren = 24, kHandlerBudget = 45, kMaxHandlerChildren = 64 };

static pid_t g_main_pid;
static volatile sig_atomic_t g_budget = kHandlerBudget;
static volatile sig_atomic_t g_made = 0;
static volatile pid_t g_handler_children[kMaxHandlerChildren];
static volatile int g_handler_codes[kMaxHandlerChildren];

static char* const g_sh21[] = {"sh", "-c", "exit 21", NULL};
static char* const g_sh23[] = {"sh", "-c", "exit 23", NULL};

// vfork in a function of its own: the caller's variables stay out of the borrowed frame.
static pid_t vfork_exec(char* const argv[]) {
    pid_t pid = vfork();
    if (pid == 0) {
        execve("/bin/sh", argv, environ);
        _exit(127);
    }
    return pid;
}

// Async-signal-safe: fork, vfork, execve, _exit and getpid only.
static void handler(int sig) {
    int saved = errno;
    if (getpid() == g_main_pid && g_budget > 0 && g_made < kMaxHandlerChildren) {
        --g_budget;
        pid_t pid = -1;
        int code = 0;
        if (sig == SIGUSR1) {
            code = 21;
            pid = fork();
            if (pid == 0) {
                execve("/bin/sh", g_sh21, environ);
                _exit(127);
            }
        } else if (sig == SIGALRM) {
            code = 22;
            pid = fork();
            if (pid == 0) _exit(22);
        } else {
            code = 23;
            pid = vfork_exec(g_sh23);
        }
        if (pid > 0) {
            g_handler_codes[g_made] = code;
            g_handler_children[g_made] = pid;
            ++g_made;
        }
    }
    errno = saved;
}

// Sends SIGUSR1 to the main process and SIGCHLD to the whole group until killed.
static pid_t start_storm(void) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    signal(SIGUSR1, SIG_DFL);
    struct timespec pause = {0, 100 * 1000};
    for (;;) {
        kill(g_main_pid, SIGUSR1);
        kill(0, SIGCHLD);
        nanosleep(&pause, NULL);
    }
}

static pid_t create_main_child(int i) {
    char script[48];
    snprintf(script, sizeof script, "/bin/true; exit %d", i);
    char* argv[] = {"sh", "-c", script, NULL};
    pid_t pid = -1;
    switch (i % 4) {
        case 0:
            pid = fork();
            if (pid == 0) _exit(i);
            break;
        case 1:
            pid = fork();
            if (pid == 0) {
                execve("/bin/sh", argv, environ);
                _exit(127);
            }
            break;
        case 2:
            pid = vfork_exec(argv);
            break;
        case 3:
            if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0) pid = -1;
            break;
    }
    return pid;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    setpgid(0, 0);  // the storm's SIGCHLDs go to our group only
    g_main_pid = getpid();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);  // handlers do not nest: each books its child in one slot
    sigaddset(&sa.sa_mask, SIGUSR1);
    sigaddset(&sa.sa_mask, SIGALRM);
    sigaddset(&sa.sa_mask, SIGCHLD);
    sa.sa_flags = 0;  // no SA_RESTART: interrupted system calls fail with EINTR
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);

    struct itimerval every = {{0, 500}, {0, 500}};
    setitimer(ITIMER_REAL, &every, NULL);
    // Allocate until the timer's handler has created a few processes (or 2 s have passed).
    void* keep[128] = {0};
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned n = 0; g_made < 3; ++n) {
        unsigned i = n * 2654435761u % 128;
        free(keep[i]);
        keep[i] = malloc(16 + (n * 7919u) % 70000);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= 2) break;
    }
    for (int i = 0; i < 128; ++i) free(keep[i]);
    pid_t storm = start_storm();

    for (int i = 0; i < kMainChildren; ++i) {
        pid_t pid = create_main_child(i);
        expect_code("main child", pid > 0 ? wait_child(pid, 30) : -1, i);
        // system() blocks SIGCHLD while it waits: the storm queues up behind it.
        if (i % 6 == 5) expect_code("system", system("/bin/true; exit 9"), 9);
    }

    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    kill(storm, SIGKILL);
    int status = wait_child(storm, 30);
    if (status == -1 || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) ++g_failures;
    signal(SIGUSR1, SIG_IGN);
    signal(SIGALRM, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);

    int made = g_made;
    for (int i = 0; i < made; ++i) {
        expect_code("handler child", wait_child(g_handler_children[i], 30), g_handler_codes[i]);
    }
    printf("main children: %d, handler children all as expected: %s\n", kMainChildren,
           g_failures == 0 ? "yes" : "no");
    return g_failures == 0 ? 0 : 1;
}

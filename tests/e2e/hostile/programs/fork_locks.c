// fork_locks: threads fork, _Fork, vfork and posix_spawn at the same instant while other
// threads sit inside malloc/free/realloc (one arena for all, so they hold its lock often) and
// hold a stdio FILE lock (flockfile, and inside fprintf); then a burst of _Fork children.
// glibc's fork() resets the malloc and FILE locks in the child, so a fork child may use both; a
// _Fork or vfork child may not, and only execs or _exits. Whatever the tracer does in a child
// must take none of those locks: a child that hangs is killed after a timeout and fails the
// run.
#include <malloc.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>

#include "common.h"

extern char** environ;

enum { kForkers = 3, kRounds = 8, kChurners = 2, kBurst = 40 };

static volatile int g_stop = 0;
static FILE* g_shared;  // /dev/null, its lock held most of the time by stdio_holder
static pthread_barrier_t g_go;
static pthread_mutex_t g_count_lock = PTHREAD_MUTEX_INITIALIZER;

static void* malloc_churner(void* arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    void* keep[64] = {0};
    while (!g_stop) {
        unsigned i = (seed = seed * 1103515245u + 12345u) % 64;
        // 2 KiB .. 32 KiB: past the thread caches, every call takes the arena's lock.
        size_t size = 2048u << (seed >> 8) % 5;
        if (keep[i] != NULL && (seed & 1)) {
            keep[i] = realloc(keep[i], size);
        } else {
            free(keep[i]);
            keep[i] = malloc(size);
        }
        if (keep[i] != NULL) memset(keep[i], (int)i, size < 64 ? size : 64);
    }
    for (int i = 0; i < 64; ++i) free(keep[i]);
    return NULL;
}

static void* stdio_holder(void* arg) {
    (void)arg;
    while (!g_stop) {
        flockfile(g_shared);
        for (int i = 0; i < 200; ++i) fprintf(g_shared, "held %d %s\n", i, "x");
        struct timespec hold = {0, 300 * 1000};  // keep the lock across other threads' forks
        nanosleep(&hold, NULL);
        funlockfile(g_shared);
    }
    return NULL;
}

// A fork child of a multithreaded parent: glibc made malloc and stdio usable again.
static void fork_child(int code) {
    char* p = malloc(4000);
    snprintf(p, 4000, "child %d", code);
    fprintf(g_shared, "%s\n", p);
    fflush(g_shared);
    free(p);
    if (code % 2) _exit(code);
    char script[32];
    snprintf(script, sizeof script, "/bin/true; exit %d", code);
    execl("/bin/sh", "sh", "-c", script, (char*)NULL);
    _exit(127);
}

// A _Fork or vfork child: nothing but exec or _exit (no allocation, no stdio).
static char* const g_sh_exit_7[] = {"sh", "-c", "exit 7", NULL};

static void create_one(int how, int code) {
    pid_t pid = -1;
    int want = code;
    switch (how) {
        case 0:
            pid = fork();
            if (pid == 0) fork_child(code);
            break;
        case 1:
            pid = _Fork();
            if (pid == 0) {
                if (code % 2) _exit(code);
                execve("/bin/sh", g_sh_exit_7, environ);
                _exit(127);
            }
            want = code % 2 ? code : 7;
            break;
        case 2:
            pid = vfork();
            if (pid == 0) {
                execve("/bin/sh", g_sh_exit_7, environ);
                _exit(127);
            }
            want = 7;
            break;
        case 3:
            if (posix_spawn(&pid, "/bin/sh", NULL, NULL, g_sh_exit_7, environ) != 0) pid = -1;
            want = 7;
            break;
    }
    int status = pid > 0 ? wait_child(pid, 20) : -1;
    pthread_mutex_lock(&g_count_lock);
    expect_code("child", status, want);
    pthread_mutex_unlock(&g_count_lock);
}

static void* forker(void* arg) {
    int index = (int)(intptr_t)arg;
    for (int round = 0; round < kRounds; ++round) {
        pthread_barrier_wait(&g_go);  // every forker at once
        create_one((index + round) % 4, 10 + index * kRounds + round);
    }
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    mallopt(M_ARENA_MAX, 1);  // one arena for every thread: the churners hold its lock often
    g_shared = fopen("/dev/null", "w");
    pthread_barrier_init(&g_go, NULL, kForkers);
    pthread_t churners[kChurners], holder, forkers[kForkers];
    for (int i = 0; i < kChurners; ++i)
        pthread_create(&churners[i], NULL, malloc_churner, (void*)(uintptr_t)(i + 1));
    pthread_create(&holder, NULL, stdio_holder, NULL);
    for (int i = 0; i < kForkers; ++i)
        pthread_create(&forkers[i], NULL, forker, (void*)(intptr_t)i);
    for (int i = 0; i < kForkers; ++i) pthread_join(forkers[i], NULL);
    // A burst of _Fork children that only _exit: each copies the arena lock in whatever state
    // a churner left it (held about one time in ten).
    for (int i = 0; i < kBurst; ++i) {
        pid_t pid = _Fork();
        if (pid == 0) _exit(i % 100);
        expect_code("_Fork burst", pid > 0 ? wait_child(pid, 5) : -1, i % 100);
    }
    g_stop = 1;
    for (int i = 0; i < kChurners; ++i) pthread_join(churners[i], NULL);
    pthread_join(holder, NULL);
    printf("children: %d, failures: %d\n", kForkers * kRounds + kBurst, g_failures);
    return g_failures == 0 ? 0 : 1;
}

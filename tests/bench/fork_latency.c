// Fork latency of a process with MIB MiB of touched memory, as seen by the parent: the time
// fork() takes to return, and the time until the child is reaped.
//
//   fork_latency MIB ROUNDS [--child-ms MS] [--parent-write-pct P] [--warmup N] [--thp]
//
// One line per round on stdout: "fork_us wait_us". Options:
//   --child-ms MS         the child sleeps MS ms before _exit (default 0: it exits at once)
//   --parent-write-pct P  while the child lives, the parent rewrites P % of its pages, spread
//                         evenly over the child's life (copy-on-write for the census to find)
//   --warmup N            N rounds first that are not printed (default 0)
//   --thp                 ask for transparent huge pages (MADV_HUGEPAGE) instead of 4 KiB pages
// MIB 0 forks a process with no extra memory (a storm of fork+_exit+waitpid).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void sleep_us(double us) {
    if (us <= 0) return;
    long long ns = (long long)(us * 1e3);
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static int usage(void) {
    fprintf(stderr,
            "usage: fork_latency MIB ROUNDS [--child-ms MS] [--parent-write-pct P] [--warmup N] "
            "[--thp]\n");
    return 2;
}

int main(int argc, char** argv) {
    if (argc < 3) return usage();
    size_t bytes = (size_t)atol(argv[1]) << 20;
    int rounds = atoi(argv[2]);
    double child_ms = 0, write_pct = 0;
    int warmup = 0, thp = 0;
    for (int i = 3; i < argc; ++i) {
        if (strcmp(argv[i], "--child-ms") == 0 && i + 1 < argc) {
            child_ms = atof(argv[++i]);
        } else if (strcmp(argv[i], "--parent-write-pct") == 0 && i + 1 < argc) {
            write_pct = atof(argv[++i]);
        } else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc) {
            warmup = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--thp") == 0) {
            thp = 1;
        } else {
            return usage();
        }
    }
    char* p = NULL;
    if (bytes > 0) {
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        madvise(p, bytes, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
        // Populated in one call (a page fault per page costs much more, on a VM most of all),
        // then written.
        madvise(p, bytes, MADV_POPULATE_WRITE);
        memset(p, 1, bytes);
    }
    size_t pages = bytes / 4096;
    size_t to_write = (size_t)((double)pages * write_pct / 100.0);
    for (int i = 0; i < warmup + rounds; ++i) {
        double t0 = now_us();
        pid_t c = fork();
        if (c < 0) {
            perror("fork");
            return 1;
        }
        if (c == 0) {
            sleep_us(child_ms * 1e3);
            _exit(0);
        }
        double t1 = now_us();
        if (to_write > 0 && child_ms > 0) {
            // 50 steps over the child's life, each rewriting its share of the pages.
            const int steps = 50;
            size_t next = 0;
            for (int s = 1; s <= steps; ++s) {
                size_t until = to_write * (size_t)s / steps;
                for (; next < until; ++next) p[next * 4096] ^= 1;
                double due = t1 + child_ms * 1e3 * s / steps;
                sleep_us(due - now_us());
            }
        }
        waitpid(c, NULL, 0);
        double t2 = now_us();
        if (i >= warmup) printf("%.1f %.1f\n", t1 - t0, t2 - t0);
    }
    return 0;
}

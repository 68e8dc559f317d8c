// Fork latency of a process with MIB MiB of touched memory, as seen by the parent: the time
// fork() takes to return, and the time until a child that exits at once is reaped.
//   fork_latency MIB ROUNDS   → one line per round: "fork_us wait_us"
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

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: fork_latency MIB ROUNDS\n");
        return 2;
    }
    size_t bytes = (size_t)atol(argv[1]) << 20;
    int rounds = atoi(argv[2]);
    char* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    memset(p, 1, bytes);
    for (int i = 0; i < rounds; ++i) {
        double t0 = now_us();
        pid_t c = fork();
        if (c == 0) _exit(0);
        double t1 = now_us();
        waitpid(c, NULL, 0);
        double t2 = now_us();
        printf("%.1f %.1f\n", t1 - t0, t2 - t0);
    }
    return 0;
}

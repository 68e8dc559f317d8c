// many_processes COUNT [CONCURRENCY]: creates COUNT short-lived processes, at most CONCURRENCY
// (default 4) at a time. Child i _exits with i % 200; every fifth one execs /bin/true instead
// (a short process that also starts a new image). Prints a summary line and exits 0 when every
// child ended as expected.
#include <stdlib.h>

#include "common.h"

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2) return 2;
    int count = atoi(argv[1]);
    int concurrency = argc > 2 ? atoi(argv[2]) : 4;
    pid_t* pids = calloc((size_t)count, sizeof(pid_t));
    int running = 0, started = 0, bad = 0;
    while (started < count || running > 0) {
        if (started < count && running < concurrency) {
            int i = started++;
            pid_t pid = fork();
            if (pid == 0) {
                if (i % 5 == 4) {
                    execl("/bin/true", "true", (char*)NULL);
                    _exit(127);
                }
                _exit(i % 200);
            }
            if (pid < 0) {
                ++bad;
                continue;
            }
            pids[i] = pid;
            ++running;
            continue;
        }
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break;
        }
        --running;
        int i = 0;
        while (i < started && pids[i] != pid) ++i;
        int want = i % 5 == 4 ? 0 : i % 200;
        if (i == started || !WIFEXITED(status) || WEXITSTATUS(status) != want) ++bad;
    }
    printf("%d processes, %d unexpected\n", count, bad);
    return bad == 0 ? 0 : 1;
}

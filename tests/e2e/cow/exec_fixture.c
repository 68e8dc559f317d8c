// Fork episodes whose child execs without ending the episode, for the census tests: the page
// writes are those of cow_fixture's "both" (the parent writes the first half of the region, the
// child the middle half), and the same checkpoints let the test read PFN ground truth.
//
//   exec_fixture SCENARIO MIB SYNC_FIFO
//
// SCENARIO:
//   child_exec_fails  the child's exec fails (no such file), then it writes: the episode goes on
//   child_vfork_exec  the child vforks a process that execs /bin/true, then writes: an exec in
//                     the vfork child is not the child's own
//
// Every process stops itself (SIGSTOP) right after fork ("forked") and after its writes
// ("done"), having written "<role> <pid> <phase>\n" to SYNC_FIFO; the test resumes it.
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* g_sync_path;
static size_t g_bytes;
static char* g_region;

static void checkpoint(const char* role, const char* phase) {
    char line[128];
    int n = snprintf(line, sizeof line, "%s %d %s\n", role, (int)getpid(), phase);
    int fd = open(g_sync_path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, line, (size_t)n) != n) _exit(90);
    close(fd);
    raise(SIGSTOP);
}

// Writes one byte into every page of [from, to) (fractions of the region).
static void touch(double from, double to, char value) {
    size_t a = (size_t)(from * (double)g_bytes), b = (size_t)(to * (double)g_bytes);
    for (size_t i = a; i < b; i += 4096) g_region[i] = value;
}

// As cow_fixture's children do, the child stays a while after its last checkpoint: its episode
// is one that matters, so cowtrace takes its exact final census (it spares children whose
// census would cost more than a tenth of their life, which a loaded machine can make of a child
// that lived about 100 ms, stopped at the checkpoints, under a sanitized collector).
static void linger(void) {
    usleep(400 * 1000);
}

static void child_part(const char* scenario) {
    checkpoint("child0", "forked");
    if (!strcmp(scenario, "child_exec_fails")) {
        char* argv[] = {"missing", NULL};
        execv("/nonexistent/missing", argv);  // fails: the child goes on in its own image
    } else if (!strcmp(scenario, "child_vfork_exec")) {
        pid_t v = vfork();
        if (v == 0) {
            execl("/bin/true", "true", (char*)NULL);
            _exit(91);
        }
        if (v < 0 || waitpid(v, NULL, 0) != v) _exit(92);
    }
    touch(0.25, 0.75, 3);
    checkpoint("child0", "done");
    linger();
    _exit(0);
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: exec_fixture SCENARIO MIB SYNC_FIFO\n");
        return 2;
    }
    const char* scenario = argv[1];
    if (strcmp(scenario, "child_exec_fails") && strcmp(scenario, "child_vfork_exec")) {
        fprintf(stderr, "exec_fixture: unknown scenario %s\n", scenario);
        return 2;
    }
    g_bytes = (size_t)atoi(argv[2]) << 20;
    g_sync_path = argv[3];
    g_region = mmap(NULL, g_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g_region == MAP_FAILED) return 3;
    madvise(g_region, g_bytes, MADV_NOHUGEPAGE);  // 4 KiB pages: the truth is read per page
    memset(g_region, 1, g_bytes);

    pid_t c = fork();
    if (c < 0) return 5;
    if (c == 0) child_part(scenario);
    checkpoint("parent", "forked");
    touch(0.0, 0.5, 2);
    checkpoint("parent", "done");
    int status = 0;
    if (waitpid(c, &status, 0) != c || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 6;
    return 0;
}

/* forks_at_known_lines: built with -g -O2 so that the collector names its fork call sites with
 * source lines. It forks twice: once from main, once from an always-inlined helper (the report
 * shows the helper's line, then main's line where it was inlined). The test finds the expected
 * lines by their MARKER comments. Each child writes 1 MiB of the parent's memory (a measured
 * copy), waits a little and exits; the parent waits for it. */
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHARED_BYTES (4 << 20)
#define WRITTEN_BYTES (1 << 20)

static char shared[SHARED_BYTES];

static void child_writes_then_exits(void) {
    memset(shared, 2, WRITTEN_BYTES);
    struct timespec hold = {0, 200 * 1000 * 1000};
    nanosleep(&hold, NULL);
    _exit(0);
}

static inline __attribute__((always_inline)) pid_t fork_from_helper(void) {
    return fork(); /* MARKER:helper_fork */
}

int main(void) {
    memset(shared, 1, sizeof shared);
    pid_t first = fork(); /* MARKER:main_fork */
    if (first == 0) child_writes_then_exits();
    if (first > 0) waitpid(first, NULL, 0);
    pid_t second = fork_from_helper(); /* MARKER:helper_site */
    if (second == 0) child_writes_then_exits();
    if (second > 0) waitpid(second, NULL, 0);
    return first > 0 && second > 0 ? 0 : 1;
}

/* cow_writer: a parent that owns SHARE MiB of written anonymous memory forks children that write
 * part of it, so that a known number of pages is copied on write.
 *
 *   cow_writer [--share MiB] [--child-writes MiB] [--parent-writes MiB] [--hold-ms N]
 *              [--children N] [--orphan-ms N] [--wait-ms N] [--child-wait-ms N]
 *              [--child-more-writes MiB --child-go-file PATH]
 *
 * Each child writes one byte in each of the first CHILD-WRITES MiB of pages, then lives HOLD-MS
 * more (so the census samples it) and _exits. While a child lives, the parent writes the last
 * PARENT-WRITES MiB. With --orphan-ms the parent also leaves a child behind that outlives it by
 * about that long. --wait-ms: the parent waits that long before its first fork (time for
 * `cowtrace attach`); --child-wait-ms: each child waits that long before it writes (so an
 * observer from outside reads its fork-time memory first). --child-more-writes: after its writes
 * each child says "written" on stdout, waits until PATH exists, writes the next MORE-WRITES MiB
 * and says "more written" (a fork under way when `cowtrace attach` begins). Exit status 0, or 1
 * if memory cannot be had.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* A volatile store per page: the compiler may not drop writes nobody reads back. */
static void write_pages(volatile char* p, size_t bytes, char value) {
    long page = sysconf(_SC_PAGESIZE);
    for (size_t off = 0; off < bytes; off += (size_t)page) p[off] = value;
}

int main(int argc, char** argv) {
    long share_mib = 16, child_mib = 8, parent_mib = 0, hold_ms = 400, children = 1, orphan_ms = 0;
    long wait_ms = 0, child_wait_ms = 0, more_mib = 0;
    const char* go_file = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        long v = strtol(argv[i + 1], NULL, 10);
        if (!strcmp(argv[i], "--child-go-file"))
            go_file = argv[i + 1];
        else if (!strcmp(argv[i], "--child-more-writes"))
            more_mib = v;
        else if (!strcmp(argv[i], "--share"))
            share_mib = v;
        else if (!strcmp(argv[i], "--child-writes"))
            child_mib = v;
        else if (!strcmp(argv[i], "--parent-writes"))
            parent_mib = v;
        else if (!strcmp(argv[i], "--hold-ms"))
            hold_ms = v;
        else if (!strcmp(argv[i], "--children"))
            children = v;
        else if (!strcmp(argv[i], "--orphan-ms"))
            orphan_ms = v;
        else if (!strcmp(argv[i], "--wait-ms"))
            wait_ms = v;
        else if (!strcmp(argv[i], "--child-wait-ms"))
            child_wait_ms = v;
        else {
            fprintf(stderr, "cow_writer: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    size_t share = (size_t)share_mib << 20;
    size_t child_bytes = (size_t)(child_mib < share_mib ? child_mib : share_mib) << 20;
    size_t parent_bytes = (size_t)(parent_mib < share_mib ? parent_mib : share_mib) << 20;
    char* mem = mmap(NULL, share, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return 1;
    /* 4 KiB pages only: a huge page's copy-on-write is counted differently (see DESIGN §5). */
    madvise(mem, share, MADV_NOHUGEPAGE);
    write_pages(mem, share, 1);
    if (wait_ms > 0) sleep_ms(wait_ms);

    for (long k = 0; k < children; ++k) {
        pid_t pid = fork();
        if (pid < 0) return 1;
        if (pid == 0) {
            if (child_wait_ms > 0) sleep_ms(child_wait_ms);
            write_pages(mem, child_bytes, 2);
            if (more_mib > 0 && go_file != NULL) {
                size_t more = (size_t)more_mib << 20;
                if (more > share - child_bytes) more = share - child_bytes;
                printf("written\n");
                fflush(stdout);
                struct stat st;
                while (stat(go_file, &st) != 0) sleep_ms(10);
                write_pages(mem + child_bytes, more, 2);
                printf("more written\n");
                fflush(stdout);
            }
            sleep_ms(hold_ms);
            _exit(0);
        }
        if (parent_bytes) write_pages(mem + share - parent_bytes, parent_bytes, 3);
        int status;
        waitpid(pid, &status, 0);
    }
    if (orphan_ms > 0) {
        pid_t pid = fork();
        if (pid == 0) {
            sleep_ms(orphan_ms);
            _exit(0);
        }
    }
    return 0;
}

// A program whose copy-on-write is known page by page, for the census tests.
//
//   cow_fixture SCENARIO MIB SYNC_FIFO
//
// With COW_READY_CHECKPOINT set, a single-fork scenario's parent also stops right before its
// fork ("ready").
// Every process stops itself (SIGSTOP) at two points so the test can read both pagemaps as
// ground truth: right after fork ("forked"), and after its writes ("done"). Before stopping it
// writes "<role> <pid> <phase>\n" to SYNC_FIFO. The test resumes everyone with SIGCONT.
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

// A child stays a while after its last checkpoint before it exits or execs: its episode is one
// that matters (as a snapshot child's does), so cowtrace takes an exact final census rather than
// keeping its last sample (it spares children that end within ten times a census's cost).
static void linger(void) {
    usleep(400 * 1000);
}

static size_t ksm_merging_pages(void) {
    FILE* f = fopen("/proc/self/ksm_stat", "r");
    if (f == NULL) return 0;
    char key[64];
    unsigned long long v = 0, found = 0;
    while (fscanf(f, "%63s %llu", key, &v) == 2) {
        if (!strcmp(key, "ksm_merging_pages")) found = v;
    }
    fclose(f);
    return (size_t)found;
}

static void reap_all(void) {
    while (wait(NULL) > 0) {
    }
}

// The child of a single-fork scenario.
static void child_part(const char* scenario) {
    checkpoint("child0", "forked");
    if (!strcmp(scenario, "child_writes") || !strcmp(scenario, "fork_exec")) touch(0.0, 0.5, 3);
    if (!strcmp(scenario, "ksm")) touch(0.0, 0.25, 3);
    if (!strcmp(scenario, "both")) touch(0.25, 0.75, 3);
    if (!strcmp(scenario, "thp")) {
        for (size_t off = 0; off < g_bytes / 2; off += 2u << 20) g_region[off + 4096] = 3;
    }
    checkpoint("child0", "done");
    linger();
    if (!strcmp(scenario, "fork_exec")) {
        execl("/bin/true", "true", (char*)NULL);
        _exit(91);
    }
    _exit(0);
}

static void parent_part(const char* scenario) {
    checkpoint("parent", "forked");
    if (!strcmp(scenario, "parent_writes")) touch(0.0, 0.5, 2);
    if (!strcmp(scenario, "both")) touch(0.0, 0.5, 2);
    if (!strcmp(scenario, "parent_frees")) munmap(g_region + g_bytes / 2, g_bytes / 2);
    checkpoint("parent", "done");
    reap_all();
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: cow_fixture SCENARIO MIB SYNC_FIFO\n");
        return 2;
    }
    const char* scenario = argv[1];
    g_bytes = (size_t)atoi(argv[2]) << 20;
    g_sync_path = argv[3];
    size_t huge = 2u << 20;
    // Over-allocate so the region can start on a 2 MiB boundary (THP needs it).
    char* raw =
        mmap(NULL, g_bytes + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return 3;
    g_region = (char*)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
    if (!strcmp(scenario, "thp")) {
        if (madvise(g_region, g_bytes, MADV_HUGEPAGE) != 0) return 4;
    } else {
        madvise(g_region, g_bytes, MADV_NOHUGEPAGE);  // keep the others at 4 KiB pages
    }
    memset(g_region, 1, g_bytes);
    if (!strcmp(scenario, "ksm")) {
        // Identical pages for ksmd to merge (the test runs it); fork once most are merged.
        if (madvise(g_region, g_bytes, MADV_MERGEABLE) != 0) return 6;
        for (int tries = 0; tries < 600 && ksm_merging_pages() < g_bytes / 4096 * 9 / 10; ++tries) {
            usleep(50000);
        }
        // The test stops ksmd here: pages it merged or split during the episode would change
        // frames without anybody writing, and the truth and cowtrace would disagree on who.
        checkpoint("parent", "merged");
    }

    // Never shared with a child, whatever it contains.
    char* not_forked =
        mmap(NULL, 4u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(not_forked, 1, 4u << 20);
    madvise(not_forked, 2u << 20, MADV_DONTFORK);
    madvise(not_forked + (2u << 20), 2u << 20, MADV_WIPEONFORK);
    // Read-faulted memory maps the zero page: not memory anyone pays for. (One written page
    // gives the mapping an anon_vma, without which fork would not copy its page tables at all.)
    char* zeros = mmap(NULL, 2u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    madvise(zeros, 2u << 20, MADV_NOHUGEPAGE);
    zeros[0] = 1;
    volatile char sink = 0;
    for (size_t i = 4096; i < (2u << 20); i += 4096) sink += zeros[i];
    (void)sink;

    if (!strcmp(scenario, "several_children")) {
        // Three children alive at once, each writing its own eighth; the parent writes another.
        for (int k = 0; k < 3; ++k) {
            pid_t c = fork();
            if (c < 0) return 5;
            if (c == 0) {
                char role[16];
                snprintf(role, sizeof role, "child%d", k);
                checkpoint(role, "forked");
                touch(0.125 * k, 0.125 * (k + 1), (char)(10 + k));
                checkpoint(role, "done");
                linger();
                _exit(0);
            }
        }
        checkpoint("parent", "forked");
        touch(0.5, 0.625, 2);
        checkpoint("parent", "done");
        reap_all();
        return 0;
    }
    if (!strcmp(scenario, "nested")) {
        pid_t c = fork();
        if (c < 0) return 5;
        if (c == 0) {
            pid_t g = fork();
            if (g < 0) _exit(5);
            if (g == 0) {
                checkpoint("grandchild", "forked");
                touch(0.5, 0.75, 4);
                checkpoint("grandchild", "done");
                linger();
                _exit(0);
            }
            checkpoint("child0", "forked");
            touch(0.0, 0.25, 3);
            checkpoint("child0", "done");
            linger();
            reap_all();
            _exit(0);
        }
        checkpoint("parent", "forked");
        checkpoint("parent", "done");
        reap_all();
        return 0;
    }
    // COW_READY_CHECKPOINT: one more stop before the fork (the test stalls cowtrace there).
    if (getenv("COW_READY_CHECKPOINT") != NULL) checkpoint("parent", "ready");
    pid_t c = fork();
    if (c < 0) return 5;
    if (c == 0) child_part(scenario);
    parent_part(scenario);
    return 0;
}

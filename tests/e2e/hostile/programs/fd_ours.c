// fd_ours MODE DATAFILE: a host that goes after the tracer's own descriptor.
//   dup2          finds the collector connection in /proc/self/fd (the socket the program never
//                 opened) and dup2()s its data file over it, then dup3()s over wherever the
//                 connection went, then close()s the connection directly.
//   close_range   a second thread calls close_range() (bounded, then to ~0U) while the main
//                 thread keeps forking and exec'ing children.
//   closefrom     the same with glibc's closefrom(3), which closes through an internal
//                 close_range call that no close_range wrapper sees.
//                 In both, the connection must survive (same socket inode): a reconnect would
//                 briefly take the lowest free number, the one the closing thread opens next.
// Untraced there is no such socket: the program then uses descriptor 1000, which it never
// opened, so every call must return exactly what it returns traced. After each blow it creates
// processes, which the trace must still contain; the data file must hold exactly its lines.
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common.h"

enum { kNotOpened = 1000, kRounds = 12 };

// The highest-numbered socket among our descriptors: the collector connection when traced
// (the harness gives the program none of its own), else kNotOpened.
static int tracer_socket(void) {
    DIR* d = opendir("/proc/self/fd");
    int best = -1;
    struct dirent* e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (fd < 3 || fd == dirfd(d)) continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && fd > best) best = fd;
    }
    if (d != NULL) closedir(d);
    return best >= 0 ? best : kNotOpened;
}

static ino_t inode_of(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static const char* outcome(int rc) {
    return rc >= 0 ? "ok" : strerrorname_np(errno);
}

// A child that writes through fd (as its descriptor 3) from a shell, and a system() call.
static void make_processes(int fd, const char* tag) {
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 3);  // the shell writes to fd 3 (dup2 clears close-on-exec; a no-op does not)
        if (fd == 3) fcntl(3, F_SETFD, 0);
        char script[96];
        snprintf(script, sizeof script, "/bin/echo 'shell after %s' >&3; exit 3", tag);
        execl("/bin/sh", "sh", "-c", script, (char*)NULL);
        _exit(127);
    }
    expect_code(tag, wait_child(pid, 30), 3);
    expect_code(tag, system("/bin/true; exit 4"), 4);
}

static int run_dup2(const char* path) {
    int data = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (data < 0) return 2;

    int target = tracer_socket();
    printf("dup2 over the connection: %s\n", outcome(dup2(data, target)));
    printf("close-on-exec after dup2: %d\n", fcntl(target, F_GETFD) & FD_CLOEXEC);
    say_fd(target, "written through the connection's old number\n");
    make_processes(target, "dup2");

    target = tracer_socket();                     // wherever the connection went (or 1000 again)
    if (target == kNotOpened) close(kNotOpened);  // untraced: make it free again, as traced
    printf("dup3 over the connection: %s\n", outcome(dup3(data, target, O_CLOEXEC)));
    printf("close-on-exec after dup3: %d\n", fcntl(target, F_GETFD) & FD_CLOEXEC);
    say_fd(target, "written after dup3\n");
    printf("close of our copy: %s\n", outcome(close(target)));
    printf("second close: %s\n", outcome(close(target)));
    make_processes(data, "dup3");

    // Closing the connection itself must look like closing a number the host never opened.
    target = tracer_socket();
    printf("close of the connection: %s\n", outcome(close(target)));
    printf("fcntl on it afterwards: %s\n", outcome(fcntl(target, F_GETFD)));
    make_processes(data, "close");
    say_fd(data, "last line\n");
    return g_failures == 0 ? 0 : 1;
}

static pthread_barrier_t g_half_way;
static const char* g_path;
static bool g_use_closefrom;

// Closes everything from a thread of its own while the main thread creates processes, then
// opens the data file on the lowest free number and uses it.
static void* closer(void* arg) {
    (void)arg;
    pthread_barrier_wait(&g_half_way);
    ino_t connection = inode_of(tracer_socket());  // 0 untraced, before and after
    if (g_use_closefrom) {
        closefrom(3);
        printf("closefrom(3) returned\n");
    } else {
        printf("close_range to 2000: %s\n", outcome(close_range(3, 2000, 0)));
        printf("close_range to ~0: %s\n", outcome(close_range(3, ~0U, 0)));
    }
    int data = open(g_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    printf("data fd after closing: %d\n", data);
    printf("tracer connection (if any) kept: %s\n",
           inode_of(tracer_socket()) == connection ? "yes" : "no");
    say_fd(data, "thread: after closing\n");
    pthread_barrier_wait(&g_half_way);
    make_processes(data, "thread");
    return NULL;
}

static int run_closer(const char* path, bool use_closefrom) {
    g_path = path;
    g_use_closefrom = use_closefrom;
    pthread_barrier_init(&g_half_way, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, closer, NULL);
    for (int round = 0; round < kRounds; ++round) {
        if (round == kRounds / 2) pthread_barrier_wait(&g_half_way);  // the thread starts closing
        pid_t pid = fork();
        if (pid == 0) {
            if (round % 2) _exit(round);
            char script[32];
            snprintf(script, sizeof script, "/bin/true; exit %d", round);
            execl("/bin/sh", "sh", "-c", script, (char*)NULL);
            _exit(127);
        }
        expect_code("round", wait_child(pid, 30), round);
    }
    pthread_barrier_wait(&g_half_way);  // the thread has its data file
    pthread_join(t, NULL);
    printf("rounds: %d\n", kRounds);
    return g_failures == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 3 && strcmp(argv[1], "dup2") == 0) return run_dup2(argv[2]);
    if (argc == 3 && strcmp(argv[1], "close_range") == 0) return run_closer(argv[2], false);
    if (argc == 3 && strcmp(argv[1], "closefrom") == 0) return run_closer(argv[2], true);
    fprintf(stderr, "usage: %s dup2|close_range|closefrom DATAFILE\n", argv[0]);
    return 2;
}

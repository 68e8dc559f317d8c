// self_exec HOPS: a process that execs itself HOPS times, through a different exec entry point
// each time (execv of /proc/self/exe, execvp by bare name, execl, execle with a growing
// environment, fexecve, execveat), forking a short-lived child every tenth image. The trace
// must show one process with HOPS+1 images (HOPS successful execs), and every child.
#include <fcntl.h>
#include <stdlib.h>

#include "common.h"

extern char** environ;

// execvp needs a bare name it finds in PATH: our own directory goes first (once).
static void put_own_directory_in_path(void) {
    char dir[4096];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0) return;
    dir[n] = '\0';
    *strrchr(dir, '/') = '\0';
    const char* path = getenv("PATH");
    size_t len = strlen(dir);
    if (path != NULL && strncmp(path, dir, len) == 0 && path[len] == ':') return;
    char joined[8192];
    snprintf(joined, sizeof joined, "%s:%s", dir, path ? path : "/usr/bin:/bin");
    setenv("PATH", joined, 1);
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc != 2) {
        fprintf(stderr, "usage: %s HOPS\n", argv[0]);
        return 2;
    }
    int left = atoi(argv[1]);
    if (left % 10 == 0) {
        pid_t pid = fork();
        if (pid == 0) _exit(left % 256);
        expect_code("child", wait_child(pid, 30), left % 256);
    }
    if (left == 0) {
        printf("last image, failures %d\n", g_failures);
        return g_failures == 0 ? 0 : 1;
    }
    char next[16];
    snprintf(next, sizeof next, "%d", left - 1);
    char* const args[] = {argv[0], next, NULL};
    char* const bare[] = {"self_exec", next, NULL};
    char var[32];
    snprintf(var, sizeof var, "HOP_%d=%d", left, left);
    if (putenv(var) != 0) return 1;  // the environment grows by one variable per image
    put_own_directory_in_path();
    switch (left % 6) {
        case 0:
            execv("/proc/self/exe", args);
            break;
        case 1:
            execvp("self_exec", bare);
            break;
        case 2:
            execl("/proc/self/exe", argv[0], next, (char*)NULL);
            break;
        case 3:
            execle("/proc/self/exe", argv[0], next, (char*)NULL, environ);
            break;
        case 4: {
            int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
            fexecve(fd, args, environ);
            break;
        }
        case 5:
            execveat(AT_FDCWD, "/proc/self/exe", args, environ, 0);
            break;
    }
    perror("exec");
    return 127;
}

// setid_probe: run from a set-user-ID-root copy by an unprivileged user. The loader runs it in
// secure-execution mode and drops LD_PRELOAD for it and its whole subtree: cowtrace cannot
// enter it. It says whether it runs as root, forks a child that _exits 61 and one that execs a
// shell exiting 62, waits for both and exits 63. Each process appends "ROLE PID PPID" to
// descriptor 3 (the witness the harness compares the trace with), and the parent "reaped PID
// CODE" for each child.
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("effective uid is root: %s\n", geteuid() == 0 ? "yes" : "no");
    dprintf(3, "self %d %d\n", getpid(), getppid());
    pid_t a = fork();
    if (a == 0) {
        dprintf(3, "exits %d %d\n", getpid(), getppid());
        _exit(61);
    }
    pid_t b = fork();
    if (b == 0) {
        dprintf(3, "execs %d %d\n", getpid(), getppid());
        char* const argv[] = {"sh", "-c", "/bin/true; exit 62", NULL};
        execve("/bin/sh", argv, environ);
        _exit(127);
    }
    int failures = 0;
    for (int i = 0; i < 2; ++i) {
        int status;
        pid_t pid = wait(&status);
        if (pid < 0 || !WIFEXITED(status)) {
            ++failures;
            continue;
        }
        dprintf(3, "reaped %d %d\n", pid, WEXITSTATUS(status));
    }
    return failures == 0 ? 63 : 1;
}

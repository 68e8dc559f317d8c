/* Runs a program as a vfork child would: vfork(), then execv in the child (as old spawners and
 * some shells do). Dynamically linked, so the library sees the vfork child's exec attempt.
 * Usage: vfork_exec PROGRAM [ARGS...]; exits with the program's status. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: vfork_exec PROGRAM [ARGS...]\n");
        return 2;
    }
    pid_t pid = vfork();
    if (pid < 0) return 1;
    if (pid == 0) {
        execv(argv[1], argv + 1);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return 1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

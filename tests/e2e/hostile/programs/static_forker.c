// static_forker: a statically linked program (built with -static), which no preloaded library
// can enter. It forks a child that _exits 11 and a child that execs a dynamically linked shell
// (the environment still names the library, so the shell and its children are traced again),
// waits for both and exits 13. The trace must flag the exec of this image as static and its
// children as created by an untraced mechanism, while the kernel's witness still records every
// one of them and how it ended.
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

int main(void) {
    int failures = 0;
    pid_t a = fork();
    if (a == 0) _exit(11);
    pid_t b = fork();
    if (b == 0) {
        char* const argv[] = {"sh", "-c", "/bin/true; exit 12", NULL};
        execve("/bin/sh", argv, environ);
        _exit(127);
    }
    int status;
    if (waitpid(a, &status, 0) != a || !WIFEXITED(status) || WEXITSTATUS(status) != 11) ++failures;
    if (waitpid(b, &status, 0) != b || !WIFEXITED(status) || WEXITSTATUS(status) != 12) ++failures;
    printf("static: children ended as expected: %s\n", failures == 0 ? "yes" : "no");
    return failures == 0 ? 13 : 1;
}

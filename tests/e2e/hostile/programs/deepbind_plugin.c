// A plugin that its host loads with RTLD_DEEPBIND: its own calls to fork, execl, waitpid and
// _exit bind to libc directly, past any preloaded wrapper.
#include <sys/wait.h>
#include <unistd.h>

int plugin_run(void);

// Forks a child that _exits 41 and one that execs a shell exiting 42; returns how many of
// them ended as expected.
int plugin_run(void) {
    int ok = 0, status;
    pid_t a = fork();
    if (a == 0) _exit(41);
    if (waitpid(a, &status, 0) == a && WIFEXITED(status) && WEXITSTATUS(status) == 41) ++ok;
    pid_t b = fork();
    if (b == 0) {
        execl("/bin/sh", "sh", "-c", "/bin/true; exit 42", (char*)0);
        _exit(127);
    }
    if (waitpid(b, &status, 0) == b && WIFEXITED(status) && WEXITSTATUS(status) == 42) ++ok;
    return ok;
}

// env_scrub: a program that removes LD_PRELOAD from its own environment (as heaptrack and
// sandboxes do) and then creates processes through every interface that takes the global
// environ: system, popen, wordexp, execv/execvp/execl in fork children, posix_spawn[p] with
// environ; then the same after clearenv() (environ is NULL), after setting LD_PRELOAD empty,
// and after setting it to another library. Every shell it starts runs /bin/true, a grandchild
// only an instrumented shell reports: the tree must be complete, every process instrumented.
#include <spawn.h>
#include <stdlib.h>
#include <wordexp.h>

#include "common.h"

extern char** environ;

static char* const g_sh_argv[] = {"sh", "-c", "/bin/true; exit 3", NULL};

static void via_fork_exec(int how) {
    pid_t pid = fork();
    if (pid == 0) {
        if (how == 0) execv("/bin/sh", g_sh_argv);
        if (how == 1) execvp("sh", g_sh_argv);
        if (how == 2) execl("/bin/sh", "sh", "-c", "/bin/true; exit 3", (char*)NULL);
        _exit(127);
    }
    expect_code("fork+exec", wait_child(pid, 30), 3);
}

static void via_spawn(int search) {
    pid_t pid;
    int rc = search ? posix_spawnp(&pid, "sh", NULL, NULL, g_sh_argv, environ)
                    : posix_spawn(&pid, "/bin/sh", NULL, NULL, g_sh_argv, environ);
    expect_code("posix_spawn", rc == 0 ? wait_child(pid, 30) : -1, 3);
}

static void every_way(const char* when) {
    expect_code("system", system("/bin/true; exit 3"), 3);
    FILE* f = popen("/bin/true; echo popen", "r");
    char line[32] = "";
    if (f == NULL || fgets(line, sizeof line, f) == NULL) ++g_failures;
    expect_code("pclose", f ? pclose(f) : -1, 0);
    wordexp_t w;
    if (wordexp("$(/bin/true; echo word)", &w, 0) == 0) {
        if (w.we_wordc != 1 || strcmp(w.we_wordv[0], "word") != 0) ++g_failures;
        wordfree(&w);
    } else {
        ++g_failures;
    }
    for (int how = 0; how < 3; ++how) via_fork_exec(how);
    via_spawn(0);
    via_spawn(1);
    printf("%s: done\n", when);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    unsetenv("LD_PRELOAD");
    every_way("unsetenv LD_PRELOAD");

    // clearenv() leaves environ NULL: PATH too is gone (execvp and popen fall back to defaults).
    clearenv();
    every_way("clearenv");

    setenv("PATH", "/usr/bin:/bin", 1);
    setenv("LD_PRELOAD", "", 1);
    every_way("LD_PRELOAD empty");

    // Another library the program wants preloaded: ours must go first, theirs must stay.
    setenv("LD_PRELOAD", "libm.so.6", 1);
    every_way("LD_PRELOAD of another library");
    return g_failures == 0 ? 0 : 1;
}

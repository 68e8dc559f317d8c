// long_args: execs (and posix_spawns, and system()s) with argument lists and environments at
// the kernel's limits: single strings of 128 KiB - 1 (MAX_ARG_STRLEN with its NUL), argv and
// environments filled to within a few bytes of the 2 MiB budget (a quarter of the 8 MiB stack
// limit), an environment of 20,000 variables that lacks LD_PRELOAD (the tracer must put it back
// without a stack array), and requests just over the limits, which must fail with E2BIG as
// they do untraced. The exec target, arg_report, prints what it received.
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "common.h"

extern char** environ;

enum { kMaxString = 128 * 1024 - 1, kPieces = 4095 };

static char g_target[4096];  // arg_report, next to us

static size_t strings_bytes(char* const* v, size_t* count) {
    size_t bytes = 0, n = 0;
    for (; v != NULL && v[n] != NULL; ++n) bytes += strlen(v[n]) + 1;
    if (count) *count = n;
    return bytes;
}

// The kernel's budget for one exec (fs/exec.c, bprm_stack_limits): a quarter of the stack
// limit, at most 6 MiB, at least 128 KiB; pointers and the file name count too.
static size_t exec_budget(void) {
    struct rlimit r;
    getrlimit(RLIMIT_STACK, &r);
    size_t limit = r.rlim_cur == RLIM_INFINITY ? 6u << 20 : r.rlim_cur / 4;
    if (limit > (6u << 20)) limit = 6u << 20;
    if (limit < 128u * 1024) limit = 128u * 1024;
    return limit - sizeof(void*);  // the stack's top word
}

// What an exec of path (g_target if NULL) with argv and envp uses of the budget.
static size_t exec_cost_of(const char* path, char* const* argv, char* const* envp) {
    size_t argc, envc;
    size_t bytes = strings_bytes(argv, &argc) + strings_bytes(envp, &envc);
    return bytes + strlen(path ? path : g_target) + 1 + (argc + envc) * sizeof(void*);
}

static size_t exec_cost(char* const* argv, char* const* envp) {
    return exec_cost_of(NULL, argv, envp);
}

static char* repeat(char c, size_t n) {
    char* s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

// argv of "arg_report" plus pieces of kPieces bytes and a last, shorter one, sized so that the
// exec leaves exactly `headroom` bytes of the budget (negative: over the budget).
static char** argv_filling(char* const* envp, long headroom) {
    static char* piece;
    if (piece == NULL) piece = repeat('p', kPieces);
    size_t max = exec_budget() / (kPieces + 1) + 2;
    char** argv = calloc(max + 2, sizeof(char*));
    argv[0] = "arg_report:000000:0000000000";
    argv[1] = NULL;
    long left = (long)exec_budget() - (long)exec_cost(argv, envp) - headroom;
    size_t n = 1;
    while (left > (long)(kPieces + 1 + sizeof(void*)) * 2) {
        argv[n++] = piece;
        left -= kPieces + 1 + sizeof(void*);
    }
    argv[n++] = repeat('q', (size_t)(left - 1 - (long)sizeof(void*)));  // the rest, exactly
    argv[n] = NULL;
    return argv;
}

// environ plus `count` variables BIG_nnnnn=… (and, if envp_base is NULL, nothing else).
static char** env_with(char* const* base, size_t count, size_t value_len) {
    size_t n;
    strings_bytes(base, &n);
    char** env = calloc(n + count + 1, sizeof(char*));
    for (size_t i = 0; i < n; ++i) env[i] = base[i];
    for (size_t i = 0; i < count; ++i) {
        env[n + i] = malloc(value_len + 16);
        int k = snprintf(env[n + i], value_len + 16, "BIG_%05zu=", i);
        memset(env[n + i] + k, 'v', value_len);
        env[n + i][k + value_len] = '\0';
    }
    env[n + count] = NULL;
    return env;
}

// argv[0] tells arg_report what was sent (same width whatever the figures, see arg_report.c).
static char** stamped(char** argv) {
    static char names[16][32];
    static int next;
    char* name = names[next++ % 16];
    size_t argc;
    argv[0] = "arg_report:000000:0000000000";
    size_t bytes = strings_bytes(argv, &argc);
    snprintf(name, sizeof names[0], "arg_report:%06zu:%010zu", argc, bytes);
    argv[0] = name;
    return argv;
}

// execve(g_target) in a child; prints E2BIG and the like, or what arg_report printed.
static void exec_child(const char* what, char** argv, char** envp) {
    stamped(argv);
    pid_t pid = fork();
    if (pid == 0) {
        execve(g_target, argv, envp);
        printf("%s: %s\n", what, strerrorname_np(errno));
        _exit(100);
    }
    int status = wait_child(pid, 30);
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) printf("%s: ran\n", what);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    ssize_t n = readlink("/proc/self/exe", g_target, sizeof g_target - 32);
    if (n <= 0) return 2;
    g_target[n] = '\0';
    strcpy(strrchr(g_target, '/') + 1, "arg_report");

    char* longest = repeat('a', kMaxString);
    char* args_longest[] = {NULL, longest, NULL};
    exec_child("one 128 KiB argument", args_longest, environ);
    char* too_long = repeat('a', kMaxString + 1);
    char* args_too_long[] = {NULL, too_long, NULL};
    exec_child("one argument over 128 KiB", args_too_long, environ);

    char** env_long = env_with(environ, 1, kMaxString - 10);  // "BIG_00000=" is 10 bytes
    char* args_plain[] = {NULL, NULL};
    exec_child("one 128 KiB variable", args_plain, env_long);

    exec_child("argv 64 bytes under the limit", argv_filling(environ, 64), environ);
    exec_child("argv 4 KiB over the limit", argv_filling(environ, -4096), environ);

    // Many small variables, filling the budget to within 64 bytes with argv.
    char** env_many = env_with(environ, 30000, 20);
    exec_child("30,000 variables and argv 64 bytes under the limit", argv_filling(env_many, 64),
               env_many);

    // An environment of the program's own making, without LD_PRELOAD: 20,000 variables.
    char* own_base[] = {"PATH=/usr/bin:/bin", NULL};
    char** env_own = env_with(own_base, 20000, 8);
    exec_child("20,000 variables of our own", args_plain, env_own);
    // The same, filled to 8 KiB under the limit: room for a tracer to add its variables.
    exec_child("own environment, argv 8 KiB under the limit", argv_filling(env_own, 8192), env_own);
    // …and to 64 bytes under it: no room for the tracer's variables. The exec must still run,
    // as it does untraced (the tracer gives up on that image rather than make the exec fail).
    exec_child("own environment, argv 64 bytes under the limit", argv_filling(env_own, 64),
               env_own);

    pid_t pid;
    char** spawn_argv = stamped(argv_filling(environ, 64));
    if (posix_spawn(&pid, g_target, NULL, NULL, spawn_argv, environ) == 0) {
        expect_code("posix_spawn near the limit", wait_child(pid, 30), 0);
    } else {
        printf("posix_spawn near the limit failed\n");
    }
    char* value = repeat('s', 100000);
    setenv("BIG_SYSTEM", value, 1);
    expect_code("system", system("test ${#BIG_SYSTEM} -eq 100000"), 0);

    // Last, system() with an environ of our own (no LD_PRELOAD) and a command that leave 64
    // bytes of the budget for glibc's "sh -c COMMAND": no room for the tracer's variables.
    size_t per_var = strlen("BIG_00000=") + 100 + 1 + sizeof(void*);
    char** env_system = env_with(own_base, (exec_budget() - 64 * 1024) / per_var, 100);
    char* sh_argv[] = {"sh", "-c", "", NULL};
    size_t room = exec_budget() - exec_cost_of("/bin/sh", sh_argv, env_system) - 64;
    char* command = repeat('x', room);
    memcpy(command, "exit 0 #", 8);  // the rest is a comment
    char** saved = environ;
    environ = env_system;
    int status = system(command);
    environ = saved;
    expect_code("system with an environment at the limit", status, 0);
    printf("failures: %d\n", g_failures);
    return g_failures == 0 ? 0 : 1;
}

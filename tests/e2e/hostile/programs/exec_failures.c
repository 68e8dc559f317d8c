// exec_failures: every way an exec can fail, through every exec entry point, in the main
// process itself (a failed exec returns to the caller, who goes on), in a fork child and in a
// vfork child; posix_spawn, system and popen of things that cannot run. Finally the main
// process execs a shell that exits 9.
//
// Each failure is printed as "exec-failure<TAB>ROLE<TAB>PATH<TAB>strerror": the harness checks
// that cowtrace recorded exactly these failed attempts, in this order, for that process (roles:
// main, and fork/vfork for the first two children main creates). It works in the current
// directory, where it creates the files it needs.
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common.h"

extern char** environ;

static const char* g_role = "main";

static void report(const char* path, int rc) {
    if (rc != -1) return;  // not reached: a successful exec does not return
    printf("exec-failure\t%s\t%s\t%s\n", g_role, path, strerror(errno));
}

static void write_file(const char* path, const void* bytes, size_t n, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0 || write(fd, bytes, n) != (ssize_t)n) ++g_failures;
    close(fd);
    chmod(path, mode);
}

// A copy of /bin/true left open for writing: exec'ing it fails with ETXTBSY.
static int make_busy_copy(const char* path) {
    int in = open("/bin/true", O_RDONLY | O_CLOEXEC);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) ++g_failures;
    }
    close(in);
    return out;
}

static void prepare_files(void) {
    const char script[] = "exit 5\n";  // no #!: the kernel refuses it, execvp hands it to sh
    write_file("garbage", script, sizeof script - 1, 0755);
    write_file("not_executable", "#!/bin/sh\n", 10, 0644);
    unsigned char elf[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};  // no type, no machine
    write_file("truncated_elf", elf, sizeof elf, 0755);
    unlink("loop");
    if (symlink("loop", "loop") != 0) ++g_failures;
    unlink("link_to_true");
    if (symlink("/bin/true", "link_to_true") != 0) ++g_failures;
}

static char* repeat(char c, size_t n) {
    char* s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void fail_everything(void) {
    char* const plain[] = {"prog", NULL};
    char* const sh_argv[] = {"sh", "-c", "exit 1", NULL};
    report("/nonexistent/prog", execve("/nonexistent/prog", plain, environ));
    report("not_executable", execve("not_executable", plain, environ));
    report(".", execve(".", plain, environ));
    report("garbage", execve("garbage", plain, environ));
    report("truncated_elf", execve("truncated_elf", plain, environ));
    report("/etc/passwd/x", execve("/etc/passwd/x", plain, environ));
    report("loop", execve("loop", plain, environ));
    int busy = make_busy_copy("busy");
    report("busy", execve("busy", plain, environ));
    close(busy);

    char* one_too_long = repeat('a', 128 * 1024);  // MAX_ARG_STRLEN counts the NUL
    char* const long_string[] = {"true", one_too_long, NULL};
    report("/bin/true", execve("/bin/true", long_string, environ));
    free(one_too_long);
    char* chunk = repeat('b', 100 * 1024);
    char* too_many[40];
    for (int i = 0; i < 39; ++i) too_many[i] = chunk;  // 3.9 MB: over the 2 MB of ARG_MAX
    too_many[39] = NULL;
    report("/bin/true", execve("/bin/true", too_many, environ));
    free(chunk);

    report("not_executable", execv("not_executable", plain));
    report("/nonexistent", execl("/nonexistent", "x", (char*)NULL));
    report("truncated_elf", execle("truncated_elf", "x", (char*)NULL, environ));
    report("no-such-command-hostile", execvp("no-such-command-hostile", plain));
    report("./not_executable", execlp("./not_executable", "x", (char*)NULL));
    report("no-such-command-hostile", execvpe("no-such-command-hostile", sh_argv, environ));
    int fd = open("not_executable", O_RDONLY | O_CLOEXEC);
    report("", fexecve(fd, plain, environ));
    close(fd);
    report("link_to_true", execveat(AT_FDCWD, "link_to_true", plain, environ, AT_SYMLINK_NOFOLLOW));
    report("x", execveat(987, "x", plain, environ, 0));
}

static void spawn_failures(void) {
    char* const plain[] = {"prog", NULL};
    pid_t pid;
    printf("posix_spawn /nonexistent: %s\n",
           strerror(posix_spawn(&pid, "/nonexistent", NULL, NULL, plain, environ)));
    printf("posix_spawn garbage: %s\n",
           strerror(posix_spawn(&pid, "garbage", NULL, NULL, plain, environ)));
    printf("posix_spawnp no-such-command-hostile: %s\n",
           strerror(posix_spawnp(&pid, "no-such-command-hostile", NULL, NULL, plain, environ)));
    int status = system("/nonexistent/cmd 2>/dev/null");
    printf("system of a missing command: code %d\n", WEXITSTATUS(status));
    FILE* f = popen("no-such-command-hostile 2>/dev/null", "r");
    printf("pclose of a missing command: code %d\n", f ? WEXITSTATUS(pclose(f)) : -1);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    prepare_files();

    pid_t pid = fork();
    if (pid == 0) {
        g_role = "fork";
        char* const plain[] = {"prog", NULL};
        report("/nonexistent/prog", execve("/nonexistent/prog", plain, environ));
        report("loop", execv("loop", plain));
        // ENOEXEC: glibc's execvp runs the file with /bin/sh, which exits 5.
        execvp("./garbage", plain);
        _exit(127);
    }
    expect_code("fork child", wait_child(pid, 30), 5);

    pid = vfork();
    if (pid == 0) {
        // A vfork child borrows our memory: no stdio, no globals. Its failure is printed below.
        char* const plain[] = {"prog", NULL};
        if (execve("/nonexistent/prog", plain, environ) == -1) _exit(6);
        _exit(127);
    }
    expect_code("vfork child", wait_child(pid, 30), 6);
    printf("exec-failure\tvfork\t/nonexistent/prog\t%s\n", strerror(ENOENT));

    spawn_failures();
    fail_everything();
    if (g_failures != 0) return 1;
    execl("/bin/sh", "sh", "-c", "exit 9", (char*)NULL);
    return 127;
}

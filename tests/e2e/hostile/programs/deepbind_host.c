// deepbind_host PLUGIN: loads PLUGIN with RTLD_DEEPBIND and runs it (it creates two processes
// the library cannot see being made), then forks a child of its own (traced as usual) and
// exits 3. The trace must say that this process loaded a RTLD_DEEPBIND plugin.
#include <dlfcn.h>

#include "common.h"

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc != 2) return 2;
    void* plugin = dlopen(argv[1], RTLD_NOW | RTLD_DEEPBIND);
    if (plugin == NULL) {
        printf("dlopen: %s\n", dlerror());
        return 2;
    }
    int (*run)(void) = (int (*)(void))dlsym(plugin, "plugin_run");
    printf("plugin children as expected: %d of 2\n", run ? run() : -1);
    pid_t pid = fork();
    if (pid == 0) _exit(43);
    expect_code("own child", wait_child(pid, 30), 43);
    return g_failures == 0 ? 3 : 1;
}

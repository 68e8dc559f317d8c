// arg_report: checks and prints what it was given, in figures that do not depend on being
// traced. argv[0] is "arg_report:ARGC:BYTES" (fixed widths, so it costs the same whatever the
// figures): the argument count and bytes (NULs included) its caller sent, which depend on the
// caller's environment and so are compared here, not printed. Then the BIG* variables of its
// environment, which the caller chose.
#include <stdio.h>
#include <string.h>

extern char** environ;

int main(int argc, char** argv) {
    size_t bytes = 0, big = 0, big_bytes = 0;
    for (int i = 0; i < argc; ++i) bytes += strlen(argv[i]) + 1;
    int sent_argc = -1;
    size_t sent_bytes = 0;
    int ok = sscanf(argv[0], "arg_report:%6d:%10zu", &sent_argc, &sent_bytes) == 2 &&
             sent_argc == argc && sent_bytes == bytes;
    for (char** e = environ; e != NULL && *e != NULL; ++e) {
        if (strncmp(*e, "BIG", 3) != 0) continue;
        ++big;
        big_bytes += strlen(*e) + 1;
    }
    printf("argv %s; BIG variables %zu, %zu bytes\n", ok ? "as sent" : "DIFFERS", big, big_bytes);
    return ok ? 0 : 1;
}

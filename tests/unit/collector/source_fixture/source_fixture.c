/* source_fixture: code at known source lines for the SourceSymbolizer tests, built with -g -O2.
 * Each probe records the return address of a call whose line carries a MARKER comment; the
 * program prints, per probe, "name path file_offset" located through /proc/self/maps, and the
 * test asks the symbolizer about that offset in that file. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void* library_probe(void); /* source_library.c, in a shared object */

static void* volatile recorded;

__attribute__((noinline)) static void record_return_address(void) {
    recorded = __builtin_return_address(0);
}

__attribute__((noinline)) void* known_function(void) {
    record_return_address();           /* MARKER:known_call */
    __asm__ volatile("" ::: "memory"); /* the call is no tail call: its return address stays here */
    return recorded;
}

static inline __attribute__((always_inline)) void inlined_callee(void) {
    record_return_address(); /* MARKER:inlined_call */
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void* inlining_function(void) {
    inlined_callee(); /* MARKER:inlined_site */
    __asm__ volatile("" ::: "memory");
    return recorded;
}

static inline __attribute__((always_inline)) void inlined_middle(void) {
    inlined_callee(); /* MARKER:nested_middle */
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void* nested_inlining_function(void) {
    inlined_middle(); /* MARKER:nested_site */
    __asm__ volatile("" ::: "memory");
    return recorded;
}

/* The mapped file holding addr and addr's offset in it. */
static int locate(void* addr, char* path, size_t path_size, unsigned long long* offset) {
    FILE* maps = fopen("/proc/self/maps", "r");
    if (maps == NULL) return -1;
    char line[4096];
    int found = -1;
    while (found != 0 && fgets(line, sizeof line, maps) != NULL) {
        unsigned long long start, end, pgoff;
        int name_at = 0;
        if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &start, &end, &pgoff, &name_at) < 3)
            continue;
        uintptr_t a = (uintptr_t)addr;
        if (a < start || a >= end || name_at == 0) continue;
        snprintf(path, path_size, "%s", line + name_at);
        path[strcspn(path, "\n")] = '\0';
        *offset = a - start + pgoff;
        found = 0;
    }
    fclose(maps);
    return found;
}

static void print_probe(const char* name, void* addr) {
    char path[4096];
    unsigned long long offset = 0;
    if (locate(addr, path, sizeof path, &offset) == 0) printf("%s %s %llu\n", name, path, offset);
}

int main(void) {
    print_probe("known_call", known_function());
    print_probe("inlined_call", inlining_function());
    print_probe("nested_call", nested_inlining_function());
    print_probe("library_call", library_probe());
    return 0;
}

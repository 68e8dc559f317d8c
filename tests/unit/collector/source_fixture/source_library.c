/* A shared object for the SourceSymbolizer tests: library_probe returns the return address of a
 * call on its MARKER line, in this library's code. */
static void* volatile recorded;

__attribute__((noinline)) static void record_return_address(void) {
    recorded = __builtin_return_address(0);
}

__attribute__((visibility("default"))) void* library_probe(void) {
    record_return_address(); /* MARKER:library_call */
    __asm__ volatile("" ::: "memory");
    return recorded;
}

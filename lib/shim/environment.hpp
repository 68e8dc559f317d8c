// Keeps the shim (and the way to the collector) in every child's environment. A program may
// exec with an environment of its own making, or unset LD_PRELOAD; either way the child is
// given our variables back. No heap: exec wrappers run in vfork children.
#pragma once

#include <cstddef>

namespace cowtrace::shim {

// Builds "NAME=value" entries from the configuration; called once at initialisation.
void prepare_environment_entries();

// An environment for an exec or spawn: envp itself when it already carries our variables,
// otherwise a copy with them added. The copy lives in the builder (stack) or, for very large
// environments, in an anonymous mapping released by the destructor.
class ChildEnvironment {
public:
    explicit ChildEnvironment(char* const* envp);
    ~ChildEnvironment();
    ChildEnvironment(const ChildEnvironment&) = delete;
    ChildEnvironment& operator=(const ChildEnvironment&) = delete;

    char* const* get() const { return result_; }
    bool reinjected() const { return result_ != original_; }

    // Our variables must never make an exec fail that would run without them: when the
    // program's own environment lacks them and adding them takes an exec of path with argv over
    // the kernel's limit (E2BIG), the program's environment is used as it is (the new image
    // runs without the library). True when that happened.
    bool give_up_if_too_big(const char* path, char* const* argv);
    // The same after the exec failed with E2BIG anyway (a #! interpreter adds arguments).
    bool give_up_after_e2big(int err);

private:
    static constexpr size_t kInlineEntries = 512;
    char* const* original_;
    char* const* result_;
    char* inline_[kInlineEntries];
    char** mapped_ = nullptr;
    size_t mapped_bytes_ = 0;
    char preload_[2 * 4096 + 16];
};

// Whether an exec of path with argv and envp fits the kernel's budget for arguments and
// environment (fs/exec.c: each string at most 128 KiB; strings, the file name and the pointers
// within a quarter of the stack limit, at most 6 MiB, at least 128 KiB).
bool exec_fits(const char* path, char* const* argv, char* const* envp);

// For system(), popen() and wordexp(), which spawn with the global environ: if the program
// removed our variables, put a completed environ in place for the duration of the call.
// (Another thread's setenv during that call lands in the copy and is lost: documented limit.)
class EnvironSwap {
public:
    // command: what the shell will be given ("sh -c command"): the completed environ is not
    // put in place if it would take that exec over the kernel's limit.
    explicit EnvironSwap(const char* command);
    ~EnvironSwap();
    EnvironSwap(const EnvironSwap&) = delete;
    EnvironSwap& operator=(const EnvironSwap&) = delete;

private:
    char** saved_ = nullptr;
    ChildEnvironment* env_ = nullptr;
    void* storage_ = nullptr;
};

}  // namespace cowtrace::shim

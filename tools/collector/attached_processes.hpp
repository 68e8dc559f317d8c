// What `cowtrace attach` reads from /proc about processes it did not start and no library
// speaks for: who they are (command line, image, parent, start), their descendants, and
// whether this user may measure them. Read-only: the target is never stopped, signalled,
// ptraced or written to.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cowtrace::collector {

struct ProcessFacts {
    pid_t ppid = 0;
    uint64_t start_monotonic_ns = 0;  // 0 unknown
    std::string execfn;               // /proc/<pid>/exe
    std::vector<std::string> argv;    // /proc/<pid>/cmdline
};

// Nothing when the process is gone (or not readable at all).
std::optional<ProcessFacts> read_process_facts(pid_t pid);

// What /proc/<pid>/stat says of a process that attach uses (proc(5) field numbers). The layout
// fields and the exit code read 0 without ptrace's read access (which attach has).
struct ProcessStat {
    char state = '?';          // 3: 'Z' a zombie (exited, not reaped)
    pid_t ppid = 0;            // 4
    uint64_t start_ticks = 0;  // 22: clock ticks after boot; with the pid, who it is
    uint64_t start_code = 0;   // 26, 27, 28: where its image and stack lie, set by exec
    uint64_t end_code = 0;     //   (randomised by ASLR) and copied by fork
    uint64_t start_stack = 0;
    uint64_t start_data = 0;  // 45, 46, 47
    uint64_t end_data = 0;
    uint64_t start_brk = 0;
    uint64_t arg_start = 0;  // 48, 49: where its command line lies; 0 while an exec has
    uint64_t arg_end = 0;    //   replaced the address space but not yet laid out the new one
    int exit_code = 0;       // 52: wait(2) form, once it has exited
    // The address space layout exec gave it: the same in a fork child as in its parent until
    // either execs.
    bool same_layout(const ProcessStat& other) const;
    // Whether the command line is in place (an exec under way has none for a moment).
    bool command_line_laid_out() const { return arg_end > arg_start; }
};
std::optional<ProcessStat> read_process_stat(pid_t pid);
// Its start as CLOCK_MONOTONIC ns (to the clock tick, 10 ms); 0 unknown.
uint64_t start_monotonic_ns(const ProcessStat& stat);

// Whether child is still a copy of parent's image: forked, and neither has exec'd since (their
// address spaces are laid out alike, to the randomised stack and heap).
bool still_a_fork_copy(pid_t child, pid_t parent);

// Its command line and image only (after an exec): empty when gone.
std::vector<std::string> read_command_line(pid_t pid);
std::string read_image_path(pid_t pid);

// pid and its descendants alive now, parents before children (/proc/<pid>/task/*/children).
std::vector<pid_t> process_and_descendants(pid_t pid);

// Why this user cannot attach to pid (gone, a thread, another user's process, ...), in words
// that say what is needed; empty when it can.
std::string attach_refusal(pid_t pid);

}  // namespace cowtrace::collector

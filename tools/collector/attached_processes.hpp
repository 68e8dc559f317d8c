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

// Its command line and image only (after an exec): empty when gone.
std::vector<std::string> read_command_line(pid_t pid);
std::string read_image_path(pid_t pid);

// pid and its descendants alive now, parents before children (/proc/<pid>/task/*/children).
std::vector<pid_t> process_and_descendants(pid_t pid);

// Why this user cannot attach to pid (gone, a thread, another user's process, ...), in words
// that say what is needed; empty when it can.
std::string attach_refusal(pid_t pid);

}  // namespace cowtrace::collector

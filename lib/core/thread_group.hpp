// The threads of a process, and whether it is still running, from /proc/<tgid>/task/*/stat. The
// kernel's process events report each thread's exit, and the main thread's is not always the
// process's: an exec from another thread kills the old main thread (an exec event follows), and a
// main thread may end (pthread_exit) while others go on.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace cowtrace {

// The threads of process pid now (/proc/<pid>/task), in no particular order; empty when the
// process is gone.
std::vector<pid_t> thread_ids(pid_t pid);

// The kernel's PF_EXITING task flag (include/linux/sched.h): set as a thread starts to exit,
// never cleared. Field 9 of /proc/<pid>/task/<tid>/stat (proc(5)).
inline constexpr unsigned long kTaskFlagExiting = 0x4;

// Whether the task whose stat line this is has started to exit.
bool task_exiting(const std::string& stat_line);

// True while some thread of tgid has not started to exit: the process goes on. False when
// every thread is exiting or gone, or the process is gone (reaped).
bool thread_group_running(pid_t tgid);

}  // namespace cowtrace

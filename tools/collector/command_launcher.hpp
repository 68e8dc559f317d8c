// Starts the traced command for `cowtrace run`: the library preloaded, the collector's socket
// and spool in its environment, default signal handling, and a way to learn that the exec
// itself failed (a pipe that closes on a successful exec).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace cowtrace::collector {

struct LaunchSettings {
    std::vector<std::string> command;
    std::string lib_path;     // libcowtrace.so, put first in LD_PRELOAD
    std::string socket_path;  // COWTRACE_SOCKET
    std::string spool_path;   // COWTRACE_SPOOL
    bool census = true;       // false: COWTRACE_CENSUS=0
};

class CommandLauncher {
public:
    // Forks the command (everything the child needs is built before the fork: after it, only
    // exec). Returns the pid, or -1 with error set.
    pid_t start(const LaunchSettings& settings, std::string& error);
    // Waits for the outcome of the child's exec: true if the command runs; false with error
    // set when it could not be executed (the child is reaped then: it exited 127).
    bool exec_succeeded(std::string& error);

private:
    pid_t pid_ = -1;
    int exec_error_fd_ = -1;  // read end: the child writes its errno if the exec fails
    std::string name_;
};

}  // namespace cowtrace::collector

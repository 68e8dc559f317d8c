#include "command_launcher.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "wire/environment.hpp"

extern char** environ;

namespace cowtrace::collector {

namespace {

// Our environment for the command: LD_PRELOAD with the library first, the variables the run
// decides (socket, spool, census) as set here whatever the caller's environment said, and
// everything else — the timeouts a user may tune among it — as it is.
std::vector<std::string> command_environment(const LaunchSettings& s) {
    std::vector<std::string> env;
    std::string preload = s.lib_path;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view kv(*e);
        if (kv.starts_with("LD_PRELOAD=")) {
            std::string_view old = kv.substr(11);
            if (!old.empty()) preload.append(":").append(old);
            continue;
        }
        bool ours = false;
        for (const char* name : {wire::kEnvSocket, wire::kEnvSpool, wire::kEnvCensus}) {
            std::string_view n(name);
            ours = ours || (kv.starts_with(n) && kv.size() > n.size() && kv[n.size()] == '=');
        }
        if (!ours) env.emplace_back(kv);
    }
    env.push_back("LD_PRELOAD=" + preload);
    env.push_back(std::string(wire::kEnvSocket) + "=" + s.socket_path);
    // Records the collector cannot take (it stalled, or died) land next to the trace.
    env.push_back(std::string(wire::kEnvSpool) + "=" + s.spool_path);
    if (!s.census) env.push_back(std::string(wire::kEnvCensus) + "=0");
    return env;
}

}  // namespace

pid_t CommandLauncher::start(const LaunchSettings& settings, std::string& error) {
    std::vector<std::string> env_strings = command_environment(settings);
    std::vector<char*> envp, argv;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    for (const auto& s : settings.command) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    name_ = settings.command.empty() ? std::string() : settings.command[0];

    int exec_pipe[2];
    if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
        error = std::string("pipe: ") + strerror(errno);
        return -1;
    }
    sigset_t empty;
    sigemptyset(&empty);
    pid_t pid = fork();
    if (pid < 0) {
        error = std::string("fork: ") + strerror(errno);
        close(exec_pipe[0]);
        close(exec_pipe[1]);
        return -1;
    }
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &empty, nullptr);
        execvpe(argv[0], argv.data(), envp.data());
        int err = errno;
        ssize_t ignored = write(exec_pipe[1], &err, sizeof err);
        (void)ignored;
        _exit(127);
    }
    close(exec_pipe[1]);
    pid_ = pid;
    exec_error_fd_ = exec_pipe[0];
    return pid;
}

bool CommandLauncher::exec_succeeded(std::string& error) {
    if (exec_error_fd_ < 0) return pid_ > 0;
    int err = 0;
    ssize_t n;
    do {
        n = read(exec_error_fd_, &err, sizeof err);
    } while (n < 0 && errno == EINTR);
    close(exec_error_fd_);
    exec_error_fd_ = -1;
    if (n != sizeof err) return true;
    error = "cannot run '" + name_ + "': " + strerror(err);
    waitpid(pid_, nullptr, 0);
    return false;
}

}  // namespace cowtrace::collector

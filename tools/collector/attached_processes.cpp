#include "attached_processes.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace cowtrace::collector {

namespace {

std::string proc_path(pid_t pid, const char* what) {
    return "/proc/" + std::to_string(pid) + "/" + what;
}

std::string read_whole(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

uint64_t clock_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

std::vector<std::string> read_command_line(pid_t pid) {
    std::string raw = read_whole(proc_path(pid, "cmdline"));
    std::vector<std::string> argv;
    size_t start = 0;
    while (start < raw.size()) {
        size_t end = raw.find('\0', start);
        if (end == std::string::npos) end = raw.size();
        argv.emplace_back(raw, start, end - start);
        start = end + 1;
    }
    // A program that rewrites its title (redis-server, postgres) pads the old argument area
    // with NULs: they are not arguments.
    while (!argv.empty() && argv.back().empty()) argv.pop_back();
    return argv;
}

std::string read_image_path(pid_t pid) {
    char buf[4096];
    ssize_t n = readlink(proc_path(pid, "exe").c_str(), buf, sizeof buf - 1);
    if (n <= 0) return {};
    std::string exe(buf, static_cast<size_t>(n));
    // exe is the file after symlinks: Debian's redis-server is a link to redis-check-rdb. The
    // name it was started by (as the library's AT_EXECFN would give it) is argv[0]'s, when a
    // file of that name beside exe is the same file. argv[0] may carry a rewritten title
    // ("redis-server *:6379"): its first word.
    std::vector<std::string> argv = read_command_line(pid);
    if (argv.empty()) return exe;
    std::string first = argv[0].substr(0, argv[0].find(' '));
    std::string name = first.substr(first.rfind('/') + 1);
    size_t slash = exe.rfind('/');
    if (name.empty() || slash == std::string::npos || exe.substr(slash + 1) == name) return exe;
    std::string beside = exe.substr(0, slash + 1) + name;
    struct stat a {
    }, b{};
    std::string root = proc_path(pid, "root");
    if (stat((root + beside).c_str(), &a) == 0 && stat(proc_path(pid, "exe").c_str(), &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return beside;
    return exe;
}

std::optional<ProcessStat> read_process_stat(pid_t pid) {
    // "pid (comm) state ppid ...": the command may hold spaces and parentheses; fields count
    // from the last ')'.
    std::string stat = read_whole(proc_path(pid, "stat"));
    size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 2 > stat.size()) return std::nullopt;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    ProcessStat s;
    for (int n = 3; rest >> field; ++n) {
        uint64_t v = n == 3 ? 0 : std::strtoull(field.c_str(), nullptr, 10);
        switch (n) {
            case 3:
                s.state = field[0];
                break;
            case 4:
                s.ppid = static_cast<pid_t>(v);
                break;
            case 22:
                s.start_ticks = v;
                break;
            case 26:
                s.start_code = v;
                break;
            case 27:
                s.end_code = v;
                break;
            case 28:
                s.start_stack = v;
                break;
            case 45:
                s.start_data = v;
                break;
            case 46:
                s.end_data = v;
                break;
            case 47:
                s.start_brk = v;
                break;
            case 48:
                s.arg_start = v;
                break;
            case 49:
                s.arg_end = v;
                break;
            case 52:
                s.exit_code = static_cast<int>(std::strtol(field.c_str(), nullptr, 10));
                break;
            default:
                break;
        }
    }
    return s;
}

uint64_t start_monotonic_ns(const ProcessStat& stat) {
    // starttime is in clock ticks since boot (CLOCK_BOOTTIME), which counts suspended time too.
    long hz = sysconf(_SC_CLK_TCK);
    if (stat.start_ticks == 0 || hz <= 0) return 0;
    uint64_t boot_ns = stat.start_ticks * (1'000'000'000ull / static_cast<uint64_t>(hz));
    uint64_t suspended = clock_ns(CLOCK_BOOTTIME) - clock_ns(CLOCK_MONOTONIC);
    return boot_ns > suspended ? boot_ns - suspended : 0;
}

bool ProcessStat::same_layout(const ProcessStat& o) const {
    // No stack known (no access, or a kernel thread): nothing to compare.
    return start_stack != 0 && start_stack == o.start_stack && start_code == o.start_code &&
           end_code == o.end_code && start_data == o.start_data && end_data == o.end_data &&
           start_brk == o.start_brk;
}

bool still_a_fork_copy(pid_t child, pid_t parent) {
    std::optional<ProcessStat> c = read_process_stat(child);
    std::optional<ProcessStat> p = read_process_stat(parent);
    return c && p && c->ppid == parent && c->state != 'Z' && p->state != 'Z' && c->same_layout(*p);
}

std::optional<ProcessFacts> read_process_facts(pid_t pid) {
    std::optional<ProcessStat> stat = read_process_stat(pid);
    if (!stat) return std::nullopt;
    ProcessFacts f;
    f.ppid = stat->ppid;
    f.start_monotonic_ns = start_monotonic_ns(*stat);
    f.argv = read_command_line(pid);
    f.execfn = read_image_path(pid);
    return f;
}

std::vector<pid_t> process_and_descendants(pid_t pid) {
    std::vector<pid_t> out{pid};
    std::set<pid_t> seen{pid};
    for (size_t i = 0; i < out.size(); ++i) {
        DIR* tasks = opendir(proc_path(out[i], "task").c_str());
        if (!tasks) continue;
        while (dirent* t = readdir(tasks)) {
            if (t->d_name[0] == '.') continue;
            std::istringstream kids(
                read_whole(proc_path(out[i], "task/") + t->d_name + "/children"));
            pid_t kid = 0;
            while (kids >> kid) {
                if (seen.insert(kid).second) out.push_back(kid);
            }
        }
        closedir(tasks);
    }
    return out;
}

std::string attach_refusal(pid_t pid) {
    std::string who = "pid " + std::to_string(pid);
    if (pid <= 0) return who + " is not a process id";
    if (pid == getpid()) return "cowtrace cannot attach to itself";
    struct stat st {};
    if (stat(proc_path(pid, "").c_str(), &st) != 0) return "no process " + std::to_string(pid);
    // A thread's id opens /proc/<tid> too, but only a thread group leader is a process.
    std::string status = read_whole(proc_path(pid, "status"));
    size_t tgid = status.find("\nTgid:\t");
    if (tgid != std::string::npos && std::stol(status.substr(tgid + 7)) != pid)
        return who + " is a thread of process " +
               std::to_string(std::stol(status.substr(tgid + 7))) + ": attach to the process";
    // Reading another process's page map needs the rights of ptrace's read mode.
    int fd = open(proc_path(pid, "pagemap").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == EACCES || e == EPERM) {
            return who + " belongs to uid " + std::to_string(st.st_uid) +
                   ": its memory can only be read as that user or as root (run cowtrace attach "
                   "as uid " +
                   std::to_string(st.st_uid) + ", or with sudo)";
        }
        return "cannot read the memory map of " + who + ": " + strerror(e);
    }
    ::close(fd);
    return {};
}

}  // namespace cowtrace::collector

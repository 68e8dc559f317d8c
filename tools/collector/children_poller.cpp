#include "children_poller.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "core/thread_group.hpp"

namespace cowtrace::collector {

namespace {

// The children of every thread of pid (/proc/<pid>/task/<tid>/children: Linux 3.5, and
// CONFIG_PROC_CHILDREN).
std::vector<pid_t> children_of(pid_t pid) {
    std::vector<pid_t> out;
    std::string dir = "/proc/" + std::to_string(pid) + "/task/";
    for (pid_t tid : thread_ids(pid)) {
        std::ifstream in(dir + std::to_string(tid) + "/children");
        pid_t kid = 0;
        while (in >> kid) out.push_back(kid);
    }
    return out;
}

}  // namespace

ChildrenPoller::~ChildrenPoller() {
    for (auto& [pid, k] : known_) {
        if (k.pagemap_fd >= 0) close(k.pagemap_fd);
    }
}

void ChildrenPoller::open_address_space(pid_t pid, Known& k) {
    if (k.pagemap_fd >= 0) close(k.pagemap_fd);
    // Held open, the page map stays bound to the address space it was opened on: an exec (even
    // of the same file, where the layout could repeat without ASLR) makes it read nothing.
    std::string path = "/proc/" + std::to_string(pid) + "/pagemap";
    k.pagemap_fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

void ChildrenPoller::follow(pid_t pid) {
    std::optional<ProcessStat> stat = read_process_stat(pid);
    if (!stat) return;
    Known& k = known_[pid];
    k.start_ticks = stat->start_ticks;
    k.layout = *stat;
    open_address_space(pid, k);
}

void ChildrenPoller::forget(pid_t pid) {
    auto it = known_.find(pid);
    if (it == known_.end()) return;
    if (it->second.pagemap_fd >= 0) close(it->second.pagemap_fd);
    known_.erase(it);
}

bool ChildrenPoller::has_address_space(pid_t pid) {
    std::string path = "/proc/" + std::to_string(pid) + "/pagemap";
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    uint64_t entry = 0;
    ssize_t got;
    do {
        got = pread(fd, &entry, sizeof entry, 0);
    } while (got < 0 && errno == EINTR);
    close(fd);
    return got == static_cast<ssize_t>(sizeof entry);
}

bool ChildrenPoller::exec_since(const Known& k, const ProcessStat& now) {
    if (k.pagemap_fd >= 0) {
        uint64_t entry = 0;
        ssize_t got;
        do {
            got = pread(k.pagemap_fd, &entry, sizeof entry, 0);
        } while (got < 0 && errno == EINTR);
        return got == 0;  // every address has an entry while the address space lives
    }
    return !now.same_layout(k.layout);
}

std::vector<PolledEvent> ChildrenPoller::poll(uint64_t now_ns) {
    std::vector<PolledEvent> events;
    // Ends first: a pid that ended may already be reused by a new child found below.
    std::vector<pid_t> order;
    for (auto& [pid, k] : known_) order.push_back(pid);
    std::vector<pid_t> alive;
    for (pid_t pid : order) {
        Known& k = known_[pid];
        std::optional<ProcessStat> stat = read_process_stat(pid);
        bool same_process = stat && stat->start_ticks == k.start_ticks;
        // A main thread may end while other threads go on (a zombie leader): the process lives
        // while one does. One whose threads are all exiting is not a zombie yet: its status
        // comes with the next look.
        bool running = same_process && thread_group_running(pid);
        if (same_process && !running && stat->state != 'Z') continue;
        if (!running) {
            PolledEvent ev{PolledEvent::Kind::kExit};
            ev.pid = pid;
            ev.t_ns = now_ns;
            if (same_process) {
                ev.status_known = true;
                ev.status = stat->exit_code;
            }
            events.push_back(ev);
            forget(pid);
            continue;
        }
        if (k.exec_pending || exec_since(k, *stat)) {
            // Its address space is gone: an exec, unless it began to exit meanwhile. An exit
            // drops the address space before the process is a zombie (its threads still look
            // running then, for as long as the rest of the exit takes on a loaded machine);
            // an exec puts a new one in its place at once.
            if (!thread_group_running(pid)) continue;
            if (k.pagemap_fd >= 0 && !has_address_space(pid)) continue;
            // The new address space comes a moment before the command line is copied into it:
            // found in between, the exec is told on the next look (once only: without read
            // access to its layout a process never shows one).
            if (!k.exec_pending && !stat->command_line_laid_out()) {
                k.exec_pending = true;
                alive.push_back(pid);
                continue;
            }
            k.exec_pending = false;
            PolledEvent ev{PolledEvent::Kind::kExec};
            ev.pid = pid;
            ev.t_ns = now_ns;
            events.push_back(ev);
            k.layout = *stat;
            open_address_space(pid, k);
        }
        alive.push_back(pid);
    }
    // New children, and theirs, parents first.
    for (size_t i = 0; i < alive.size(); ++i) {
        pid_t parent = alive[i];
        for (pid_t kid : children_of(parent)) {
            if (known_.count(kid)) continue;
            std::optional<ProcessStat> stat = read_process_stat(kid);
            if (!stat || stat->ppid != parent) continue;  // gone meanwhile
            // A zombie is listed among its parent's children until reaped: either its exit was
            // told above, or it forked and ended between two looks (missed, as said).
            if (stat->state == 'Z') continue;
            PolledEvent fork{PolledEvent::Kind::kFork};
            fork.pid = kid;
            fork.parent = parent;
            uint64_t start = start_monotonic_ns(*stat);
            fork.t_ns = start != 0 && start <= now_ns ? start : now_ns;
            fork.still_a_copy = still_a_fork_copy(kid, parent);
            events.push_back(fork);
            bool exec_pending = false;
            if (!fork.still_a_copy) {
                // Forked and exec'd between two looks (or exec'ing now: told on the next).
                exec_pending = !stat->command_line_laid_out();
                if (!exec_pending) {
                    PolledEvent exec{PolledEvent::Kind::kExec};
                    exec.pid = kid;
                    exec.t_ns = now_ns;
                    events.push_back(exec);
                }
            }
            follow(kid);
            if (auto it = known_.find(kid); it != known_.end())
                it->second.exec_pending = exec_pending;
            alive.push_back(kid);
        }
    }
    return events;
}

}  // namespace cowtrace::collector

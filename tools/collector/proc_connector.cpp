#include "proc_connector.hpp"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cowtrace::collector {

ProcConnector::~ProcConnector() {
    if (fd_ >= 0) ::close(fd_);
}

bool ProcConnector::open(std::string& why_not) {
    fd_ = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (fd_ < 0) {
        why_not = std::string("netlink connector socket: ") + strerror(errno);
        return false;
    }
    int rcvbuf = 8 << 20;  // a burst of forks must not overflow us
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) == 0 ||
        setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = CN_IDX_PROC;
    addr.nl_pid = 0;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        why_not = std::string("cannot bind to the proc connector: ") + strerror(errno);
        ::close(fd_);
        fd_ = -1;
        return false;
    }
    // nlmsghdr, then cn_msg, then the subscription operation, back to back.
    alignas(nlmsghdr) char msg[NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_cn_mcast_op))] = {};
    auto* nl = reinterpret_cast<nlmsghdr*>(msg);
    nl->nlmsg_len = sizeof msg;
    nl->nlmsg_type = NLMSG_DONE;
    nl->nlmsg_pid = static_cast<uint32_t>(getpid());
    auto* cn = static_cast<cn_msg*>(NLMSG_DATA(nl));
    cn->id.idx = CN_IDX_PROC;
    cn->id.val = CN_VAL_PROC;
    cn->len = sizeof(proc_cn_mcast_op);
    proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
    memcpy(cn->data, &op, sizeof op);
    if (send(fd_, msg, sizeof msg, 0) != static_cast<ssize_t>(sizeof msg)) {
        why_not = std::string("proc connector subscription refused: ") + strerror(errno);
        ::close(fd_);
        fd_ = -1;
        return false;
    }
    return true;
}

bool ProcConnector::names_our_processes(int timeout_ms, std::string& why_not) {
    pid_t self = getpid();
    pid_t child = fork();
    if (child == 0) _exit(0);
    if (child < 0) return true;  // nothing to learn from: trust the subscription
    bool heard = false;
    timespec start{}, now{};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int left = timeout_ms; !heard && left > 0;) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, left) > 0) {
            drain([&](const KernelEvent& ev) {
                heard = heard || (ev.kind == KernelEvent::Kind::kFork && ev.tgid == child &&
                                  ev.parent_tgid == self);
            });
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        left = timeout_ms - static_cast<int>((now.tv_sec - start.tv_sec) * 1000 +
                                             (now.tv_nsec - start.tv_nsec) / 1000000);
    }
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (!heard) {
        why_not =
            "the proc connector's events do not name processes as this PID namespace does (a "
            "container?)";
        ::close(fd_);  // no use: the kernel need not queue them for us
        fd_ = -1;
    }
    return heard;
}

bool ProcConnector::read_one(KernelEvent& ev, bool& have_event, bool& again) {
    alignas(nlmsghdr) char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            again = true;
            return true;
        }
        if (errno == EINTR) return true;
        if (errno == ENOBUFS) {
            ++lost_;  // the kernel dropped events for us; the trace will say so
            return false;
        }
        again = true;
        return false;
    }
    for (auto* nl = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nl, static_cast<unsigned>(n));
         nl = NLMSG_NEXT(nl, n)) {
        if (nl->nlmsg_type == NLMSG_ERROR || nl->nlmsg_type == NLMSG_NOOP) continue;
        constexpr size_t kEventOffset = NLMSG_HDRLEN + sizeof(cn_msg);
        if (nl->nlmsg_len < kEventOffset) continue;
        auto* cn = static_cast<cn_msg*>(NLMSG_DATA(nl));
        if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC) continue;
        // The event sits 36 bytes into the datagram, not aligned for its 64-bit fields: copy
        // it out rather than read it in place.
        proc_event event{};
        size_t available = nl->nlmsg_len - kEventOffset;
        memcpy(&event, cn->data, std::min({sizeof event, static_cast<size_t>(cn->len), available}));
        const proc_event* pe = &event;
        ev.t_ns = pe->timestamp_ns;
        switch (pe->what) {
            case proc_event::PROC_EVENT_FORK:
                ev.kind = KernelEvent::Kind::kFork;
                ev.parent_pid = pe->event_data.fork.parent_pid;
                ev.parent_tgid = pe->event_data.fork.parent_tgid;
                ev.pid = pe->event_data.fork.child_pid;
                ev.tgid = pe->event_data.fork.child_tgid;
                have_event = true;
                break;
            case proc_event::PROC_EVENT_EXEC:
                ev.kind = KernelEvent::Kind::kExec;
                ev.pid = pe->event_data.exec.process_pid;
                ev.tgid = pe->event_data.exec.process_tgid;
                have_event = true;
                break;
            case proc_event::PROC_EVENT_EXIT:
                ev.kind = KernelEvent::Kind::kExit;
                ev.pid = pe->event_data.exit.process_pid;
                ev.tgid = pe->event_data.exit.process_tgid;
                ev.exit_code = static_cast<int>(pe->event_data.exit.exit_code);
                have_event = true;
                break;
            default:
                break;
        }
        // One event per datagram in practice; keep the last if there are more.
    }
    return true;
}

}  // namespace cowtrace::collector

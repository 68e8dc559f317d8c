#include "shim_connections.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "wire/record.hpp"

namespace cowtrace::collector {

namespace {
// One message's ancillary data: its sender's credentials. Each message's room starts at a
// multiple of this, which keeps it aligned for cmsghdr.
constexpr size_t kControlSize = CMSG_SPACE(sizeof(ucred));
static_assert(kControlSize % alignof(cmsghdr) == 0);

bool peer_allowed(uid_t uid) {
    return uid == geteuid() || uid == 0;
}

std::string file_kind(mode_t mode) {
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISLNK(mode)) return "a symbolic link";
    if (S_ISFIFO(mode)) return "a FIFO";
    return "a device or special file";
}

// Something is at path and bind() said so. A socket of ours that nobody accepts on any more was
// left by a collector that was killed: it is removed. Anything else is refused, saying why.
bool remove_stale_socket(const std::string& path, const sockaddr_un& addr, std::string& error) {
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) return true;  // gone meanwhile: bind again
    if (!S_ISSOCK(st.st_mode)) {
        error = path + " exists and is not a socket (" + file_kind(st.st_mode) +
                "): remove it or choose another --socket path";
        return false;
    }
    if (st.st_uid != geteuid()) {
        error = path + " is a socket of uid " + std::to_string(st.st_uid) +
                ": remove it or choose another --socket path";
        return false;
    }
    int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        error = std::string("socket: ") + strerror(errno);
        return false;
    }
    int rc = connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    int err = errno;
    ::close(probe);
    if (rc == 0 || err == EAGAIN) {
        error = "another collector is listening on " + path +
                ": stop it, or give this one another --socket path";
        return false;
    }
    if (err != ECONNREFUSED) {
        error = "cannot tell whether " + path + " is in use (connect: " + strerror(err) +
                "): remove it or choose another --socket path";
        return false;
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
        error = "cannot remove the stale socket " + path + ": " + strerror(errno);
        return false;
    }
    return true;
}
}  // namespace

ShimConnections::~ShimConnections() {
    for (auto& [fd, c] : by_fd_) ::close(fd);
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        unlink(path_.c_str());
    }
}

bool ShimConnections::listen(const std::string& path, std::string& error) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path) {
        error = "socket path too long (" + std::to_string(path.size()) + " bytes, at most " +
                std::to_string(sizeof addr.sun_path - 1) + "): " + path;
        return false;
    }
    listen_fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) {
        error = std::string("socket: ") + strerror(errno);
        return false;
    }
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path.c_str(), path.size());
    // Credentials on every message from the first one: accepted sockets inherit SO_PASSCRED
    // from the listener (set after accept, a record sent in between would come without them).
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    mode_t old = umask(077);  // the socket file is created 0600
    int rc = bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (rc != 0 && errno == EADDRINUSE) {
        if (remove_stale_socket(path, addr, error)) {
            rc = bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        } else {
            errno = EADDRINUSE;
        }
    }
    int bind_errno = errno;
    umask(old);
    if (rc != 0) {
        if (error.empty()) {
            error = "cannot listen on " + path + ": " + strerror(bind_errno);
            if (bind_errno == ENOENT) {
                std::string dir = path.substr(0, path.find_last_of('/') + 1);
                error +=
                    " (does the directory " + (dir.empty() ? std::string(".") : dir) + " exist?)";
            }
        }
        ::close(listen_fd_);
        listen_fd_ = -1;
        return false;
    }
    path_ = path;
    if (::listen(listen_fd_, SOMAXCONN) != 0) {
        error = "listen on " + path + ": " + strerror(errno);
        return false;
    }
    buffer_ =
        std::make_unique_for_overwrite<uint8_t[]>(kReadBatch * (wire::kMaxShimRecordSize + 1));
    iovecs_.resize(kReadBatch);
    headers_.resize(kReadBatch);
    controls_.resize(kReadBatch * kControlSize);
    return true;
}

void ShimConnections::accept_all(const std::function<void(int fd)>& on_new) {
    for (;;) {
        int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;  // EAGAIN, or out of descriptors: the peer waits in the backlog
        }
        ucred cred{};
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || !peer_allowed(cred.uid)) {
            ++refused_;
            ::close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
        uint64_t id = next_id_++;
        by_fd_[fd] = Connection{id, cred.pid, cred.uid};
        fd_by_id_[id] = fd;
        on_new(fd);
    }
}

bool ShimConnections::read_all(int fd, const std::function<void(const ShimMessage&)>& on_message) {
    auto it = by_fd_.find(fd);
    if (it == by_fd_.end()) return false;
    const size_t room = wire::kMaxShimRecordSize + 1;
    for (;;) {
        // The kernel rewrites each header's lengths and flags: set them afresh for every call.
        for (size_t i = 0; i < kReadBatch; ++i) {
            iovecs_[i] = iovec{buffer_.get() + i * room, room};
            msghdr& msg = headers_[i].msg_hdr;
            msg = msghdr{};
            msg.msg_iov = &iovecs_[i];
            msg.msg_iovlen = 1;
            msg.msg_control = controls_.data() + i * kControlSize;
            msg.msg_controllen = kControlSize;
            headers_[i].msg_len = 0;
        }
        int n = recvmmsg(fd, headers_.data(), kReadBatch, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, nullptr);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        for (int i = 0; i < n; ++i) {
            // Every holder of the peer end has closed it: what came before is handled, and a
            // read at the end of the stream returns nothing for each later entry too.
            if (headers_[i].msg_len == 0) return false;
            msghdr& msg = headers_[i].msg_hdr;
            // Trust is decided once, at accept (SO_PEERCRED): a process of ours that later
            // drops privileges (a server started as root) keeps its channel. The message's
            // credentials only say which process sent it; without them (an old kernel, a race
            // we did not close), the connection's own peer credentials stand in.
            ucred cred{it->second.peer_pid, it->second.peer_uid, static_cast<gid_t>(-1)};
            for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                    ucred attached{};
                    memcpy(&attached, CMSG_DATA(c), sizeof attached);
                    if (attached.pid != 0) cred = attached;  // pid 0: sent before passcred applied
                }
            }
            std::span<uint8_t> bytes(static_cast<uint8_t*>(iovecs_[i].iov_base),
                                     headers_[i].msg_len);
            if (msg.msg_flags & MSG_TRUNC) bytes = {};  // larger than any shim record: refuse
            on_message(ShimMessage{it->second.id, cred.pid, cred.uid, bytes});
        }
        // Fewer than asked for: the queue was empty (epoll says when more comes).
        if (static_cast<size_t>(n) < kReadBatch) return true;
    }
}

std::vector<int> ShimConnections::fds() const {
    std::vector<int> out;
    out.reserve(by_fd_.size());
    for (const auto& [fd, c] : by_fd_) out.push_back(fd);
    return out;
}

void ShimConnections::drop(int fd) {
    auto it = by_fd_.find(fd);
    if (it == by_fd_.end()) return;
    fd_by_id_.erase(it->second.id);
    by_fd_.erase(it);
    ::close(fd);
}

bool ShimConnections::reply(uint64_t connection_id, const void* data, size_t size) {
    auto it = fd_by_id_.find(connection_id);
    if (it == fd_by_id_.end()) return false;
    return send(it->second, data, size, MSG_DONTWAIT | MSG_NOSIGNAL) == static_cast<ssize_t>(size);
}

}  // namespace cowtrace::collector

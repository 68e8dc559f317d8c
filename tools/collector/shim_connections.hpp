// The collector's end of the shim channel: a SOCK_SEQPACKET listener in a private directory,
// and one connection per traced process. Each message is one record; the kernel stamps it with
// the sender's credentials (SO_PASSCRED), which say whose record it is. Connections from
// another uid (other than root) are refused at accept (SO_PEERCRED). Messages are read up to
// kReadBatch at a time (recvmmsg), into buffers allocated once, in the order they were sent.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace cowtrace::collector {

struct ShimMessage {
    uint64_t connection_id;
    pid_t sender_pid;  // from the kernel, not from the record
    uid_t sender_uid;
    // The record, in the connection's receive buffer: valid until on_message returns (the
    // session may correct its header in place). Empty: larger than any shim record.
    std::span<uint8_t> bytes;
};

class ShimConnections {
public:
    ShimConnections() = default;
    ~ShimConnections();
    ShimConnections(const ShimConnections&) = delete;
    ShimConnections& operator=(const ShimConnections&) = delete;

    // Binds and listens at path; the socket file is mode 0600. A socket of ours already there
    // that nobody accepts on (its collector was killed) is replaced; anything else is refused.
    bool listen(const std::string& path, std::string& error);
    int listen_fd() const { return listen_fd_; }

    // Accepts waiting connections; calls on_new(fd) for each accepted one.
    void accept_all(const std::function<void(int fd)>& on_new);

    // Reads every message waiting on fd, in order, kReadBatch per system call. Returns false
    // when the connection has closed (the caller then calls drop()).
    bool read_all(int fd, const std::function<void(const ShimMessage&)>& on_message);

    void drop(int fd);
    // The descriptors of the open connections.
    std::vector<int> fds() const;
    // Sends a small reply (census acknowledgement) on a connection, if it is still open.
    bool reply(uint64_t connection_id, const void* data, size_t size);

    size_t open_connections() const { return by_fd_.size(); }
    uint64_t refused_peers() const { return refused_; }
    const std::string& path() const { return path_; }

    // Messages one recvmmsg may return: a full socket queue is taken in a few calls.
    static constexpr size_t kReadBatch = 64;

private:
    struct Connection {
        uint64_t id;
        pid_t peer_pid;  // SO_PEERCRED at accept
        uid_t peer_uid;
    };
    int listen_fd_ = -1;
    std::string path_;
    std::unordered_map<int, Connection> by_fd_;
    std::unordered_map<uint64_t, int> fd_by_id_;
    uint64_t next_id_ = 1;
    uint64_t refused_ = 0;
    // kReadBatch messages' room (one record each, and a byte more to see one too long), their
    // headers and their credentials, set up once at listen().
    std::unique_ptr<uint8_t[]> buffer_;  // not zeroed: untouched room costs no memory
    std::vector<iovec> iovecs_;
    std::vector<mmsghdr> headers_;
    std::vector<uint8_t> controls_;
};

}  // namespace cowtrace::collector

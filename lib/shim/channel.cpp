#include "channel.hpp"

#include <linux/un.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "clock.hpp"
#include "config.hpp"
#include "fd_table_lock.hpp"
#include "owned_fd.hpp"
#include "process_state.hpp"
#include "raw_syscall.hpp"
#include "spool.hpp"
#include "wire/field_codec.hpp"
#include "wire/shim_records.hpp"

namespace cowtrace::shim {

namespace {

std::atomic<uint64_t> g_dropped{0};
std::atomic<uint64_t> g_retry_after_ns{0};  // collector unreachable: do not retry before this
std::atomic<uint64_t> g_congested_until_ns{0};
constexpr uint64_t kCongestionBackoffNs = 1000000000ull;
constexpr uint64_t kReconnectBackoffNs = 1000000000ull;

void set_send_timeout(int fd, int send_ms) {
    timeval tv{send_ms / 1000, (send_ms % 1000) * 1000};
    raw_syscall(SYS_setsockopt, fd, SOL_SOCKET, SO_SNDTIMEO, rs_arg(&tv), sizeof tv);
}

// The collector names each record's sender from the SCM_CREDENTIALS the kernel attaches. The
// kernel attaches them only while one side asks for them; a collector that asks after accept()
// leaves a window in which a record arrives without them (pid 0, uid 65534), and is refused or
// booked to pid 0. Asking on our side closes that window whatever the collector does.
void attach_credentials(int fd) {
    int one = 1;
    raw_syscall(SYS_setsockopt, fd, SOL_SOCKET, SO_PASSCRED, rs_arg(&one), sizeof one);
}

// Opens a connection to the collector; -1 when there is none.
int connect_collector() {
    const ShimConfig& c = config();
    if (c.socket_path[0] == '\0') return -1;
    long s = raw_syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    int fd = move_high(static_cast<int>(s), kPreferredLowestFd);
    if (fd < 0) return -1;
    set_send_timeout(fd, c.send_timeout_ms);
    attach_credentials(fd);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, c.socket_path, strnlen(c.socket_path, sizeof addr.sun_path - 1));
    long r;
    do {
        r = raw_syscall(SYS_connect, fd, rs_arg(&addr), sizeof addr);
    } while (r == -EINTR);
    if (r != 0) {
        raw_close(fd);
        return -1;
    }
    return fd;
}

bool connection_lost(long err) {
    return err == -EPIPE || err == -ECONNRESET || err == -ENOTCONN || err == -ECONNREFUSED ||
           err == -EBADF || err == -ENOTSOCK;
}

void spool_or_count(void* record, size_t size, bool may_keep_open) {
    if (!spool_write(record, size, may_keep_open))
        g_dropped.fetch_add(1, std::memory_order_relaxed);
}

// Tells the collector how many records never reached it, once it is reachable again.
void report_drops(int fd, const Caller& caller) {
    uint64_t n = g_dropped.exchange(0, std::memory_order_relaxed);
    if (n == 0) return;
    wire::Dropped dropped;
    dropped.count = n;
    wire::RecordStamp stamp;
    stamp.pid = caller.pid;
    stamp.tid = caller.tid;
    stamp.t_ns = monotonic_ns();
    alignas(8) uint8_t buf[wire::Dropped::kMaxBytes];
    size_t size = wire::encode_record(dropped, stamp, buf, sizeof buf);
    if (channel_send_on(fd, buf, size) != 0) g_dropped.fetch_add(n, std::memory_order_relaxed);
}

// A vfork child runs on borrowed memory: the parent's connection if it is intact, else a
// one-shot one, else the spool — and no global changes.
void send_from_vfork_child(void* record, size_t size) {
    int fd = collector_connection().verified();
    if (fd >= 0 && channel_send_on(fd, record, size) == 0) return;
    int once = connect_collector();
    if (once >= 0) {
        long r = channel_send_on(once, record, size);
        raw_close(once);
        if (r == 0) return;
    }
    spool_or_count(record, size, false);
}

}  // namespace

bool channel_congested() {
    uint64_t until = g_congested_until_ns.load(std::memory_order_relaxed);
    return until != 0 && monotonic_ns() < until;
}

void channel_note_congestion() {
    g_congested_until_ns.store(monotonic_ns() + kCongestionBackoffNs, std::memory_order_relaxed);
}

long channel_send_on(int fd, const void* message, size_t size) {
    int flags = MSG_NOSIGNAL | (channel_congested() ? MSG_DONTWAIT : 0);
    for (int tries = 0; tries < 16; ++tries) {
        long r = raw_syscall(SYS_sendto, fd, rs_arg(message), size, flags, 0, 0);
        if (r == static_cast<long>(size)) return 0;
        if (r != -EINTR) return r < 0 ? r : -EMSGSIZE;
    }
    return -EINTR;
}

void channel_send(void* record, size_t size, const Caller& caller) {
    if (size == 0) return;
    if (caller.vfork_child) {
        send_from_vfork_child(record, size);
        return;
    }
    if (config().socket_path[0] == '\0') {
        spool_or_count(record, size, true);
        return;
    }
    OwnedFd& connection = collector_connection();
    int fd = connection.verified();
    if (fd >= 0) {
        long r = channel_send_on(fd, record, size);
        if (r != 0 && connection_lost(r)) {
            // Another thread may have just moved ours out of the host's way (the move installs
            // the new number before it closes the old one): send where it went rather than
            // reconnect, which would briefly hold the lowest free number.
            int moved = connection.verified();
            if (moved >= 0 && moved != fd) r = channel_send_on(fd = moved, record, size);
        }
        if (r == 0) {
            report_drops(fd, caller);
            return;
        }
        if (!connection_lost(r)) {  // timed out (collector too slow) or the record is too big
            if (r == -EAGAIN) channel_note_congestion();
            spool_or_count(record, size, true);
            return;
        }
    }
    uint64_t now = monotonic_ns();
    if (now < g_retry_after_ns.load(std::memory_order_relaxed)) {
        spool_or_count(record, size, true);
        return;
    }
    int fresh;
    {
        FdTableLock lock;  // from the socket to the install (fd_table_lock.hpp)
        fresh = connect_collector();
        if (fresh >= 0) connection.install(fresh);
    }
    if (fresh < 0) {
        g_retry_after_ns.store(now + kReconnectBackoffNs, std::memory_order_relaxed);
        spool_or_count(record, size, true);
        return;
    }
    process_state().own_connection.store(true, std::memory_order_relaxed);
    if (channel_send_on(fresh, record, size) == 0) {
        report_drops(fresh, caller);
    } else {
        spool_or_count(record, size, true);
    }
}

void channel_after_fork() {
    g_dropped.store(0, std::memory_order_relaxed);
}

bool channel_use_own_connection() {
    ProcessState& st = process_state();
    if (st.own_connection.load(std::memory_order_relaxed)) return true;
    // Connected first: a child that cannot connect (it switched to a user who cannot reach the
    // collector) keeps reporting on the inherited connection.
    FdTableLock lock;  // from the socket to the install (fd_table_lock.hpp)
    int fd = connect_collector();
    if (fd < 0) return false;
    // The inherited descriptor stays open in the parent; here it is dropped.
    int inherited = collector_connection().release();
    if (inherited >= 0) raw_close(inherited);
    collector_connection().install(fd);
    st.own_connection.store(true, std::memory_order_relaxed);
    return true;
}
}  // namespace cowtrace::shim

#include "channel.hpp"

#include <fcntl.h>
#include <linux/un.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "config.hpp"
#include "process_state.hpp"
#include "raw_syscall.hpp"
#include "wire/wire_writer.hpp"

namespace cowtrace::shim {

namespace {

constexpr int kPreferredLowestFd = 1000;

// A descriptor of ours, packed with its inode number so one atomic load gives both: a host
// that reuses the number for its own file fails the identity check.
struct OwnedFd {
    std::atomic<uint64_t> packed{~0ull};  // (ino32 << 32) | fd; all ones = none

    static uint64_t pack(int fd, uint64_t ino) {
        return (ino & 0xffffffffull) << 32 | static_cast<uint32_t>(fd);
    }
    static int fd_of(uint64_t p) { return p == ~0ull ? -1 : static_cast<int>(p & 0xffffffffu); }
    static uint32_t ino_of(uint64_t p) { return static_cast<uint32_t>(p >> 32); }
};

OwnedFd g_conn;   // connection to the collector
OwnedFd g_spool;  // spool file
std::atomic<uint64_t> g_dropped{0};
std::atomic<uint64_t> g_retry_after_ns{0};  // collector unreachable: do not retry before this
// The collector stopped keeping up (a send timed out, a census went unanswered): until then,
// sends do not wait at all and children do not ask for a census, so a stalled collector costs
// the host one timeout, not one per record.
std::atomic<uint64_t> g_congested_until_ns{0};
constexpr uint64_t kCongestionBackoffNs = 1000000000ull;

uint64_t now_ns() {
    timespec ts{};
    raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, rs_arg(&ts));
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The inode of fd if it is of the expected kind, else 0.
uint64_t inode_of(int fd, bool want_socket) {
    struct stat st{};
    if (fd < 0 || raw_syscall(SYS_fstat, fd, rs_arg(&st)) != 0) return 0;
    bool is_socket = S_ISSOCK(st.st_mode);
    if (want_socket != is_socket) return 0;
    if (!want_socket && !S_ISREG(st.st_mode)) return 0;
    return st.st_ino;
}

// Our fd from slot if it is still ours, else -1.
int verified_fd(const OwnedFd& slot, bool socket) {
    uint64_t p = slot.packed.load(std::memory_order_acquire);
    int fd = OwnedFd::fd_of(p);
    if (fd < 0) return -1;
    uint64_t ino = inode_of(fd, socket);
    if (ino == 0 || (ino & 0xffffffffull) != OwnedFd::ino_of(p)) return -1;
    return fd;
}

// Moves a new descriptor to a high number, close-on-exec, out of the way of hosts that use
// the low ones.
int move_high(int fd, int lowest) {
    struct rlimit lim{};
    if (raw_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, rs_arg(&lim)) == 0 &&
        lim.rlim_cur != RLIM_INFINITY && static_cast<long>(lim.rlim_cur) <= lowest + 16) {
        lowest = static_cast<int>(lim.rlim_cur) > 64 ? static_cast<int>(lim.rlim_cur) - 16 : 3;
    }
    long hi = raw_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, lowest);
    if (hi < 0) return fd;  // keep the low one rather than nothing
    raw_close(fd);
    return static_cast<int>(hi);
}

void set_timeouts(int fd, int send_ms) {
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
int connect_collector(int lowest) {
    const ShimConfig& c = config();
    if (c.socket_path[0] == '\0') return -1;
    long s = raw_syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    int fd = move_high(static_cast<int>(s), lowest);
    set_timeouts(fd, c.send_timeout_ms);
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

// Installs fd as our connection; closes the previous one only if it is still ours.
void install(OwnedFd& slot, int fd, bool socket) {
    uint64_t ino = inode_of(fd, socket);
    uint64_t old = slot.packed.exchange(OwnedFd::pack(fd, ino), std::memory_order_acq_rel);
    int old_fd = OwnedFd::fd_of(old);
    if (old_fd >= 0 && old_fd != fd) {
        uint64_t old_ino = inode_of(old_fd, socket);
        if (old_ino != 0 && (old_ino & 0xffffffffull) == OwnedFd::ino_of(old)) raw_close(old_fd);
    }
}

bool congested() {
    return now_ns() < g_congested_until_ns.load(std::memory_order_relaxed);
}

void note_congestion() {
    g_congested_until_ns.store(now_ns() + kCongestionBackoffNs, std::memory_order_relaxed);
}

// 0 on success, else -errno. Waits (up to the socket's send timeout) unless congested.
long send_all(int fd, const void* buf, size_t n) {
    int flags = MSG_NOSIGNAL | (congested() ? MSG_DONTWAIT : 0);
    for (int tries = 0; tries < 16; ++tries) {
        long r = raw_syscall(SYS_sendto, fd, rs_arg(buf), n, flags, 0, 0);
        if (r == static_cast<long>(n)) return 0;
        if (r != -EINTR) return r < 0 ? r : -EMSGSIZE;
    }
    return -EINTR;
}

bool connection_lost(long err) {
    return err == -EPIPE || err == -ECONNRESET || err == -ENOTCONN || err == -ECONNREFUSED ||
           err == -EBADF || err == -ENOTSOCK;
}

// Creates the spool file with its header in place: the header goes into a private temporary
// file that is then linked under the final name, so no process ever appends to a headerless
// spool. Whoever loses the race just appends.
int open_spool() {
    const ShimConfig& c = config();
    if (c.spool_path[0] == '\0') return -1;
    constexpr int kFlags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
    long fd = raw_syscall(SYS_open, rs_arg(c.spool_path), kFlags, 0);
    if (fd < 0 && fd == -ENOENT) {
        char tmp[kPathBytes + 32];
        size_t n = strnlen(c.spool_path, kPathBytes);
        if (n + 24 < sizeof tmp) {
            memcpy(tmp, c.spool_path, n);
            // ".<pid>.tmp": unique per process, digits written by hand (no snprintf here).
            char digits[16];
            int d = 0;
            for (unsigned v = static_cast<unsigned>(raw_getpid()); v != 0 || d == 0; v /= 10)
                digits[d++] = static_cast<char>('0' + v % 10);
            tmp[n++] = '.';
            while (d > 0) tmp[n++] = digits[--d];
            memcpy(tmp + n, ".tmp", 5);
            long t = raw_syscall(SYS_open, rs_arg(tmp),
                                 O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
            if (t >= 0) {
                uint8_t header[wire::kFileHeaderSize];
                wire::encode_file_header(header);
                raw_syscall(SYS_write, t, rs_arg(header), sizeof header);
                raw_close(static_cast<int>(t));
                raw_syscall(SYS_link, rs_arg(tmp), rs_arg(c.spool_path));
                raw_syscall(SYS_unlink, rs_arg(tmp));
            }
        }
        fd = raw_syscall(SYS_open, rs_arg(c.spool_path), kFlags, 0);
    }
    if (fd < 0) return -1;
    return move_high(static_cast<int>(fd), kPreferredLowestFd);
}

bool spool_write(void* record, size_t size, bool may_install) {
    int fd = verified_fd(g_spool, false);
    bool temporary = false;
    if (fd < 0) {
        fd = open_spool();
        if (fd < 0) return false;
        if (may_install) {
            install(g_spool, fd, false);
        } else {
            temporary = true;
        }
    }
    auto* h = static_cast<wire::RecordHeader*>(record);
    h->flags |= wire::kFromSpool;
    long r;
    do {
        r = raw_syscall(SYS_write, fd, rs_arg(record), size);
    } while (r == -EINTR);
    if (temporary) raw_close(fd);
    return r == static_cast<long>(size);
}

void deliver_or_count(void* record, size_t size, bool may_install) {
    if (!spool_write(record, size, may_install)) g_dropped.fetch_add(1, std::memory_order_relaxed);
}

// Tells the collector how many records never reached it, once it is reachable again.
void report_drops(int fd) {
    uint64_t n = g_dropped.exchange(0, std::memory_order_relaxed);
    if (n == 0) return;
    alignas(8) uint8_t buf[64];
    wire::WireWriter w(buf, sizeof buf);
    w.u64(n);
    timespec ts{};
    raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, rs_arg(&ts));
    size_t size = w.finish(wire::RecordType::kDropped, 0, raw_getpid(), raw_gettid(),
                           static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec, 0);
    if (send_all(fd, buf, size) != 0) g_dropped.fetch_add(n, std::memory_order_relaxed);
}

}  // namespace

void channel_send(void* record, size_t size) {
    if (size == 0) return;
    const ShimConfig& c = config();
    if (in_vfork_child()) {
        // Borrowed memory: use the parent's connection if it is intact, else a one-shot one.
        int fd = verified_fd(g_conn, true);
        if (fd >= 0 && send_all(fd, record, size) == 0) return;
        int once = connect_collector(kPreferredLowestFd);
        if (once >= 0) {
            long r = send_all(once, record, size);
            raw_close(once);
            if (r == 0) return;
        }
        deliver_or_count(record, size, false);
        return;
    }
    if (c.socket_path[0] == '\0') {
        deliver_or_count(record, size, true);
        return;
    }
    int fd = verified_fd(g_conn, true);
    if (fd >= 0) {
        long r = send_all(fd, record, size);
        if (r != 0 && connection_lost(r)) {
            // Another thread may have just moved ours out of the host's way (the move installs
            // the new number before it closes the old one): send where it went rather than
            // reconnect, which would briefly hold the lowest free number.
            int moved = verified_fd(g_conn, true);
            if (moved >= 0 && moved != fd) r = send_all(fd = moved, record, size);
        }
        if (r == 0) {
            report_drops(fd);
            return;
        }
        if (!connection_lost(r)) {  // timed out (collector too slow) or the record is too big
            if (r == -EAGAIN) note_congestion();
            deliver_or_count(record, size, true);
            return;
        }
    }
    uint64_t now = now_ns();
    if (now < g_retry_after_ns.load(std::memory_order_relaxed)) {
        deliver_or_count(record, size, true);
        return;
    }
    int fresh = connect_collector(kPreferredLowestFd);
    if (fresh < 0) {
        g_retry_after_ns.store(now + 1000000000ull, std::memory_order_relaxed);
        deliver_or_count(record, size, true);
        return;
    }
    install(g_conn, fresh, true);
    if (send_all(fresh, record, size) == 0) {
        report_drops(fresh);
    } else {
        deliver_or_count(record, size, true);
    }
}

void channel_reopen_in_child() {
    // The inherited descriptor stays open in the parent; in the child it is dropped, so the
    // collector sees the child's records (and answers its census requests) on its own line.
    uint64_t old = g_conn.packed.exchange(~0ull, std::memory_order_acq_rel);
    int old_fd = OwnedFd::fd_of(old);
    if (old_fd >= 0) {
        uint64_t ino = inode_of(old_fd, true);
        if (ino != 0 && (ino & 0xffffffffull) == OwnedFd::ino_of(old)) raw_close(old_fd);
    }
    g_retry_after_ns.store(0, std::memory_order_relaxed);
    g_dropped.store(0, std::memory_order_relaxed);
    int fd = connect_collector(kPreferredLowestFd);
    if (fd >= 0) install(g_conn, fd, true);
}

bool channel_census(wire::CensusKind kind, wire::EpisodeEnd reason) {
    if (in_vfork_child() || congested()) return false;
    int fd = verified_fd(g_conn, true);
    if (fd < 0) return false;
    alignas(8) uint8_t buf[64];
    wire::WireWriter w(buf, sizeof buf);
    w.u8(static_cast<uint8_t>(kind));
    w.u8(static_cast<uint8_t>(reason));
    // Where this thread's stack and TLS are: the pages a child writes on its way out of fork(),
    // before the baseline, are mostly there (the collector attributes such copies to the child).
    uint64_t sp = reinterpret_cast<uint64_t>(__builtin_frame_address(0));
    uint64_t tp = 0;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    w.u64(sp);
    w.u64(tp);
    ProcessState& st = process_state();
    size_t size = w.finish(wire::RecordType::kCensusRequest, 0, raw_getpid(), raw_gettid(),
                           now_ns(), st.seq.fetch_add(1, std::memory_order_relaxed));
    if (send_all(fd, buf, size) != 0) return false;
    uint64_t deadline = now_ns() + static_cast<uint64_t>(config().census_timeout_ms) * 1000000ull;
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline) {
            note_congestion();
            return false;
        }
        pollfd p{fd, POLLIN, 0};
        timespec left{static_cast<time_t>((deadline - now) / 1000000000ull),
                      static_cast<long>((deadline - now) % 1000000000ull)};
        long r = raw_syscall(SYS_ppoll, rs_arg(&p), 1, rs_arg(&left), 0, 0);
        if (r == -EINTR) continue;
        if (r <= 0) return false;
        CensusAck ack{};
        long got = raw_syscall(SYS_recvfrom, fd, rs_arg(&ack), sizeof ack, MSG_DONTWAIT, 0, 0);
        if (got == -EINTR || got == -EAGAIN) continue;
        return got == sizeof ack && ack.magic == kCensusAckMagic;
    }
}

bool channel_evacuate(int fd, int avoid_upto) {
    if (fd < 0) return false;
    bool vfork_child = in_vfork_child();
    bool stuck = false;
    OwnedFd* slots[] = {&g_conn, &g_spool};
    for (OwnedFd* slot : slots) {
        uint64_t p = slot->packed.load(std::memory_order_acquire);
        if (OwnedFd::fd_of(p) != fd) continue;
        bool socket = slot == &g_conn;
        uint64_t ino = inode_of(fd, socket);
        if (ino == 0 || (ino & 0xffffffffull) != OwnedFd::ino_of(p)) continue;  // not ours now
        if (vfork_child) {
            stuck = true;
            continue;
        }
        int lowest = avoid_upto + 1 > kPreferredLowestFd ? avoid_upto + 1 : kPreferredLowestFd;
        long moved = raw_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, lowest);
        if (moved < 0) {  // no room above (fd is at the descriptor limit)
            stuck = true;
            continue;
        }
        if (slot->packed.compare_exchange_strong(p, OwnedFd::pack(static_cast<int>(moved), ino))) {
            raw_close(fd);
        } else {
            raw_close(static_cast<int>(moved));
        }
    }
    return stuck;
}

bool collector_reachable_by_new_image() {
    const ShimConfig& c = config();
    long euid = raw_syscall(SYS_geteuid);
    if (euid == 0) return true;
    // Checked by hand from the mode bits, as the kernel will for the new image: access(2)
    // would answer for this process, which may still hold capabilities the exec drops (setpriv
    // and su switch uid, then exec).
    gid_t groups[64];
    long ngroups = raw_syscall(SYS_getgroups, 64, rs_arg(groups));
    long egid = raw_syscall(SYS_getegid);
    auto permits = [&](const char* path, unsigned want) {
        struct stat st{};
        long r = raw_syscall(SYS_stat, rs_arg(path), rs_arg(&st));
        if (r == -EACCES) return false;  // a directory on the way is closed to us
        if (r != 0) return true;         // nothing to say
        unsigned bits = st.st_mode & 7;
        bool in_group = static_cast<long>(st.st_gid) == egid;
        for (long i = 0; i < ngroups && !in_group; ++i) in_group = groups[i] == st.st_gid;
        if (static_cast<long>(st.st_uid) == euid) {
            bits = (st.st_mode >> 6) & 7;
        } else if (in_group) {
            bits = (st.st_mode >> 3) & 7;
        }
        return (bits & want) == want;
    };
    if (c.socket_path[0] != '\0') {
        // connect(2) needs search permission on the directory and write on the socket.
        char dir[sizeof c.socket_path];
        size_t n = strnlen(c.socket_path, sizeof dir - 1);
        memcpy(dir, c.socket_path, n);
        while (n > 0 && dir[n - 1] != '/') --n;
        if (n > 1) --n;  // drop the slash, unless the directory is /
        dir[n] = '\0';
        return (n == 0 || permits(dir, 1)) && permits(c.socket_path, 2);
    }
    return c.spool_path[0] == '\0' || permits(c.spool_path, 2);
}

void channel_abandon(int fd) {
    if (fd < 0 || in_vfork_child()) return;
    for (OwnedFd* slot : {&g_conn, &g_spool}) {
        uint64_t p = slot->packed.load(std::memory_order_acquire);
        if (OwnedFd::fd_of(p) != fd) continue;
        uint64_t ino = inode_of(fd, slot == &g_conn);
        if (ino == 0 || (ino & 0xffffffffull) != OwnedFd::ino_of(p)) continue;
        if (slot->packed.compare_exchange_strong(p, ~0ull)) raw_close(fd);
    }
}

void channel_evacuate_range(int first, int last) {
    if (first < 0 || last < first) return;
    for (const OwnedFd* slot : {&g_conn, &g_spool}) {
        int fd = OwnedFd::fd_of(slot->packed.load(std::memory_order_acquire));
        if (fd >= first && fd <= last && channel_evacuate(fd, last)) channel_abandon(fd);
    }
}

int channel_fds_from(int first, int (&out)[2]) {
    int n = 0;
    int conn = verified_fd(g_conn, true);
    int spool = verified_fd(g_spool, false);
    if (conn >= first) out[n++] = conn;
    if (spool >= first) out[n++] = spool;
    if (n == 2 && out[0] > out[1]) std::swap(out[0], out[1]);
    return n;
}

uint64_t channel_dropped() { return g_dropped.load(std::memory_order_relaxed); }

}  // namespace cowtrace::shim

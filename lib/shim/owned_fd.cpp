#include "owned_fd.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "raw_syscall.hpp"

namespace cowtrace::shim {

namespace {

OwnedFd g_connection{FdKind::kSocket};
OwnedFd g_spool{FdKind::kFile};

// The inode of fd if it is of the expected kind, else 0.
uint64_t inode_of(int fd, FdKind kind) {
    struct stat st {};
    if (fd < 0 || raw_syscall(SYS_fstat, fd, rs_arg(&st)) != 0) return 0;
    bool right_kind = kind == FdKind::kSocket ? S_ISSOCK(st.st_mode) : S_ISREG(st.st_mode);
    return right_kind ? st.st_ino : 0;
}

}  // namespace

OwnedFd& collector_connection() {
    return g_connection;
}
OwnedFd& spool_file() {
    return g_spool;
}

bool OwnedFd::holds(uint64_t packed) const {
    int fd = fd_of(packed);
    uint64_t ino = inode_of(fd, kind_);
    return ino != 0 && (ino & 0xffffffffull) == ino_of(packed);
}

int OwnedFd::verified() const {
    uint64_t p = packed_.load(std::memory_order_acquire);
    return fd_of(p) >= 0 && holds(p) ? fd_of(p) : -1;
}

void OwnedFd::install(int fd) {
    uint64_t old = packed_.exchange(pack(fd, inode_of(fd, kind_)), std::memory_order_acq_rel);
    if (fd_of(old) >= 0 && fd_of(old) != fd && holds(old)) raw_close(fd_of(old));
}

int OwnedFd::release() {
    uint64_t old = packed_.exchange(~0ull, std::memory_order_acq_rel);
    return fd_of(old) >= 0 && holds(old) ? fd_of(old) : -1;
}

bool OwnedFd::evacuate(int fd, int avoid_upto, bool vfork_child) {
    uint64_t p = packed_.load(std::memory_order_acquire);
    if (fd < 0 || fd_of(p) != fd || !holds(p)) return false;  // not ours (now)
    if (vfork_child) return true;
    int lowest = avoid_upto + 1 > kPreferredLowestFd ? avoid_upto + 1 : kPreferredLowestFd;
    long moved = raw_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, lowest);
    if (moved < 0) return true;  // no room above (fd is at the descriptor limit)
    // Installed before the old number is closed: a concurrent send finds it (channel.cpp).
    if (packed_.compare_exchange_strong(p, pack(static_cast<int>(moved), ino_of(p)))) {
        raw_close(fd);
    } else {
        raw_close(static_cast<int>(moved));
    }
    return false;
}

void OwnedFd::abandon(int fd) {
    uint64_t p = packed_.load(std::memory_order_acquire);
    if (fd < 0 || fd_of(p) != fd || !holds(p)) return;
    if (packed_.compare_exchange_strong(p, ~0ull)) raw_close(fd);
}

int move_high(int fd, int lowest) {
    struct rlimit lim {};
    if (raw_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, rs_arg(&lim)) == 0 &&
        lim.rlim_cur != RLIM_INFINITY && static_cast<long>(lim.rlim_cur) <= lowest + 16) {
        lowest = static_cast<int>(lim.rlim_cur) > 64 ? static_cast<int>(lim.rlim_cur) - 16 : 3;
    }
    // The low number is the host's to reuse the moment anything closes it (a host thread
    // closing numbers it never opened, past FdTableLock): ours is known by its inode, and the
    // low number is closed only while it still holds ours.
    struct stat born {};
    if (raw_syscall(SYS_fstat, fd, rs_arg(&born)) != 0) return -1;  // already closed: not ours
    long hi = raw_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, lowest);
    if (hi < 0) return fd;  // keep the low one rather than nothing
    struct stat now {};
    if (raw_syscall(SYS_fstat, hi, rs_arg(&now)) != 0 || now.st_ino != born.st_ino ||
        now.st_dev != born.st_dev) {
        raw_close(static_cast<int>(hi));  // we copied the host's descriptor: give it back
        return -1;
    }
    if (raw_syscall(SYS_fstat, fd, rs_arg(&now)) == 0 && now.st_ino == born.st_ino &&
        now.st_dev == born.st_dev) {
        raw_close(fd);
    }
    return static_cast<int>(hi);
}

}  // namespace cowtrace::shim

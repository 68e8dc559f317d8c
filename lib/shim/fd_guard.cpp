// A host may close every descriptor or dup2 its own files over ours. Before it does, our
// descriptor moves out of the way, so the host gets exactly the result it would get without
// us (close of a number it never opened still fails with EBADF). A close to the top of the table
// (close_range to ~0, closefrom) closes around ours: the host never opened them, and a fresh
// connection would briefly take the lowest free number, which another thread of the host may be
// about to get. Where ours can neither move nor be left alone (dup2 onto it at the descriptor
// limit), it is given up and the channel reconnects on its next record.
#include <linux/close_range.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <utility>

#include "fd_table_lock.hpp"
#include "init.hpp"
#include "owned_fd.hpp"
#include "process_state.hpp"
#include "real_functions.hpp"

namespace shim = cowtrace::shim;

namespace {

shim::OwnedFd* const kOurs[] = {&shim::collector_connection(), &shim::spool_file()};

// Moves ours away from fd (above avoid_upto). True when fd still holds one of ours.
bool ours_stuck_at(int fd, int avoid_upto) {
    // Most of the host's descriptors are not ours: no system call for those.
    bool numbered_ours = false;
    for (shim::OwnedFd* ours : kOurs) numbered_ours = numbered_ours || ours->number() == fd;
    if (!numbered_ours) return false;
    bool vfork_child = shim::in_vfork_child();
    bool stuck = false;
    for (shim::OwnedFd* ours : kOurs) stuck = ours->evacuate(fd, avoid_upto, vfork_child) || stuck;
    return stuck;
}

// The host is about to take fd over: ours there moves, or is given up.
void make_way(int fd) {
    if (!ours_stuck_at(fd, fd) || shim::in_vfork_child()) return;
    for (shim::OwnedFd* ours : kOurs) ours->abandon(fd);
}

// Ours numbered from first up, ascending, into out; returns how many.
int ours_from(int first, int (&out)[2]) {
    int n = 0;
    for (shim::OwnedFd* ours : kOurs) {
        int fd = ours->verified();
        if (fd >= first) out[n++] = fd;
    }
    if (n == 2 && out[0] > out[1]) std::swap(out[0], out[1]);
    return n;
}

}  // namespace

COWTRACE_EXPORT int close(int fd) {
    if (ours_stuck_at(fd, fd)) {
        // Ours could not move (fd is the highest number allowed, or this is a vfork child).
        // The host never opened fd: closing it must fail as it would without us, not close ours
        // and report success.
        if (!shim::in_vfork_child()) {
            for (shim::OwnedFd* ours : kOurs) ours->abandon(fd);
        }
        errno = EBADF;
        return -1;
    }
    return shim::real::close(fd);
}

COWTRACE_EXPORT int dup2(int oldfd, int newfd) {
    if (oldfd != newfd) make_way(newfd);
    return shim::real::dup2(oldfd, newfd);
}

COWTRACE_EXPORT int dup3(int oldfd, int newfd, int flags) {
    if (oldfd != newfd) make_way(newfd);
    return shim::real::dup3(oldfd, newfd, flags);
}

COWTRACE_EXPORT int close_range(unsigned first, unsigned last, int flags) {
    // CLOSE_RANGE_CLOEXEC only marks descriptors; ours are close-on-exec already.
    if ((flags & CLOSE_RANGE_CLOEXEC) || first > last || first > INT_MAX) {
        return shim::real::close_range(first, last, flags);
    }
    shim::FdTableLock lock;  // not between our creating a descriptor and moving it high
    if (last < INT_MAX - 64) {
        for (shim::OwnedFd* ours : kOurs) {
            int fd = ours->number();
            if (fd >= static_cast<int>(first) && fd <= static_cast<int>(last) &&
                ours->evacuate(fd, static_cast<int>(last), shim::in_vfork_child())) {
                if (!shim::in_vfork_child()) ours->abandon(fd);
            }
        }
        return shim::real::close_range(first, last, flags);
    }
    // To the top of the table: close around ours.
    int ours[2];
    int n = ours_from(static_cast<int>(first), ours);
    unsigned from = first;
    for (int i = 0; i < n; ++i) {
        unsigned fd = static_cast<unsigned>(ours[i]);
        if (fd > from) {
            int rc = shim::real::close_range(from, fd - 1, flags);
            if (rc != 0) return rc;
        }
        from = fd + 1;
    }
    return from <= last ? shim::real::close_range(from, last, flags) : 0;
}

// glibc's closefrom calls close_range internally, past our wrapper.
COWTRACE_EXPORT void closefrom(int lowfd) {
    if (close_range(lowfd < 0 ? 0u : static_cast<unsigned>(lowfd), ~0u, 0) == 0) return;
    shim::real::closefrom(lowfd);  // no close_range here (Linux < 5.9): glibc's own fallback
}

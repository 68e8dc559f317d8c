// A host may close every descriptor or dup2 its own files over ours. Before it does, our
// descriptor moves out of the way, so the host gets exactly the result it would get without
// us (close of a number it never opened still fails with EBADF). When there is nowhere to move
// (closefrom, close_range to ~0, ours at the descriptor limit) ours is given up, and the channel
// reconnects on its next record.
#include <linux/close_range.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "channel.hpp"
#include "init.hpp"
#include "real_functions.hpp"

namespace shim = cowtrace::shim;

COWTRACE_EXPORT int close(int fd) {
    if (shim::channel_evacuate(fd, fd)) {
        // Ours could not move (fd is the highest number allowed, or this is a vfork child).
        // The host never opened fd: closing it must fail as it would without us, not close ours
        // and report success.
        shim::channel_abandon(fd);
        errno = EBADF;
        return -1;
    }
    return shim::real().close(fd);
}

COWTRACE_EXPORT int dup2(int oldfd, int newfd) {
    if (oldfd != newfd && shim::channel_evacuate(newfd, newfd)) shim::channel_abandon(newfd);
    return shim::real().dup2(oldfd, newfd);
}

COWTRACE_EXPORT int dup3(int oldfd, int newfd, int flags) {
    if (oldfd != newfd && shim::channel_evacuate(newfd, newfd)) shim::channel_abandon(newfd);
    return shim::real().dup3(oldfd, newfd, flags);
}

COWTRACE_EXPORT int close_range(unsigned first, unsigned last, int flags) {
    // CLOSE_RANGE_CLOEXEC only marks descriptors; ours are close-on-exec already.
    if (!(flags & CLOSE_RANGE_CLOEXEC) && last < INT_MAX - 64) {
        shim::channel_evacuate_range(static_cast<int>(first), static_cast<int>(last));
    }
    return shim::real().close_range(first, last, flags);
}

// The host never sees our errno: every wrapper holds an ErrnoGuard for its whole run.
#pragma once

#include <cerrno>

namespace cowtrace::shim {

// Restores errno when the wrapper returns: to what the host had when the wrapper began, or,
// once keep_result() was called right after the real call, to what the real call left.
class ErrnoGuard {
public:
    ErrnoGuard() : saved_(errno) {}
    ~ErrnoGuard() { errno = saved_; }
    ErrnoGuard(const ErrnoGuard&) = delete;
    ErrnoGuard& operator=(const ErrnoGuard&) = delete;

    // Just before the real call: the host's errno, as if we had not run.
    void restore() const { errno = saved_; }
    // Just after it: from now on, what the real call left is the host's errno.
    void keep_result() { saved_ = errno; }

private:
    int saved_;
};

}  // namespace cowtrace::shim

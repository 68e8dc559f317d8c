// The library's own descriptors — the connection to the collector and the spool file — and how
// they stay out of the host's way. Each is close-on-exec, moved to a high number, and known by
// number and inode together (one atomic word): a host that closed ours and reused the number for
// its own file fails the identity check, and never receives a byte of ours.
// Async-signal-safe: raw system calls, atomics, no errno.
#pragma once

#include <atomic>
#include <cstdint>

namespace cowtrace::shim {

inline constexpr int kPreferredLowestFd = 1000;

enum class FdKind : uint8_t { kSocket, kFile };

class OwnedFd {
public:
    explicit constexpr OwnedFd(FdKind kind) : kind_(kind) {}

    // Ours, if the number still holds the file we installed there; else -1.
    int verified() const;
    // The number we installed (maybe no longer ours); -1 if none.
    int number() const { return fd_of(packed_.load(std::memory_order_acquire)); }
    // Makes fd ours; closes the previous one if it is still ours.
    void install(int fd);
    // Forgets ours without closing it (a forked child leaves the parent's alone); returns the
    // number if it was still ours.
    int release();
    // The host is about to close or replace fd. If it is ours, move it above avoid_upto. Returns
    // true when fd still holds ours afterwards: no room above, or a vfork child (which must leave
    // our globals alone).
    bool evacuate(int fd, int avoid_upto, bool vfork_child);
    // Closes ours at fd (the channel reopens on its next record) so the host can have the number.
    void abandon(int fd);

private:
    static uint64_t pack(int fd, uint64_t ino) {
        return (ino & 0xffffffffull) << 32 | static_cast<uint32_t>(fd);
    }
    static int fd_of(uint64_t p) { return p == ~0ull ? -1 : static_cast<int>(p & 0xffffffffu); }
    static uint32_t ino_of(uint64_t p) { return static_cast<uint32_t>(p >> 32); }
    // Whether packed still describes what is open at its number.
    bool holds(uint64_t packed) const;

    FdKind kind_;
    std::atomic<uint64_t> packed_{~0ull};  // (ino32 << 32) | fd; all ones = none
};

// Moves a new descriptor to a high number, close-on-exec, out of the way of hosts that use
// the low ones. -1 when the low number no longer held it (the host closed it): then the host's
// descriptor there is left alone. Callers hold FdTableLock from the creation to the install.
int move_high(int fd, int lowest);

// The library's two descriptors.
OwnedFd& collector_connection();
OwnedFd& spool_file();

}  // namespace cowtrace::shim

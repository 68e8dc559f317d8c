#include "census_handshake.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "channel.hpp"
#include "clock.hpp"
#include "config.hpp"
#include "owned_fd.hpp"
#include "process_state.hpp"
#include "raw_syscall.hpp"
#include "records.hpp"

namespace cowtrace::shim {

namespace {

// Waits until deadline for the collector's answer on fd.
bool await_ack(int fd, uint64_t deadline) {
    for (;;) {
        uint64_t now = monotonic_ns();
        if (now >= deadline) {
            channel_note_congestion();
            return false;
        }
        pollfd p{fd, POLLIN, 0};
        timespec left{static_cast<time_t>((deadline - now) / 1000000000ull),
                      static_cast<long>((deadline - now) % 1000000000ull)};
        long r = raw_syscall(SYS_ppoll, rs_arg(&p), 1, rs_arg(&left), 0, 0);
        if (r == -EINTR) continue;
        if (r <= 0) return false;
        wire::CensusAck ack{};
        long got = raw_syscall(SYS_recvfrom, fd, rs_arg(&ack), sizeof ack, MSG_DONTWAIT, 0, 0);
        if (got == -EINTR || got == -EAGAIN) continue;
        return got == sizeof ack && ack.magic == wire::CensusAck::kMagic;
    }
}

}  // namespace

bool census_handshake(const Caller& caller, wire::CensusKind kind, wire::EpisodeEndReason reason) {
    if (caller.vfork_child || channel_congested()) return false;
    if (!channel_use_own_connection()) return false;
    int fd = collector_connection().verified();
    if (fd < 0) return false;
    wire::CensusRequest request;
    request.kind = kind;
    request.reason = reason;
    // Where this thread's stack and TLS are: the pages a child writes on its way out of fork(),
    // before the baseline, are mostly there (the collector attributes such copies to the child).
    request.stack_pointer = reinterpret_cast<uint64_t>(__builtin_frame_address(0));
    __asm__("mov %%fs:0, %0" : "=r"(request.thread_pointer));
    alignas(8) uint8_t buf[wire::CensusRequest::kMaxBytes];
    size_t size = wire::encode_record(request, next_stamp(caller), buf, sizeof buf);
    if (channel_send_on(fd, buf, size) != 0) return false;
    uint64_t timeout_ns = static_cast<uint64_t>(config().census_timeout_ms) * 1000000ull;
    return await_ack(fd, monotonic_ns() + timeout_ns);
}

}  // namespace cowtrace::shim

// The shim's only way out: one SOCK_SEQPACKET connection per process to the collector, or a
// spool file when no collector answers. Failure policy, applied here and nowhere else:
//  - a send blocks the host at most send_timeout_ms, then the record is spooled or counted;
//  - every record carries a per-process sequence number, so the collector sees any gap;
//  - our descriptor is close-on-exec, kept at a high number, and checked by identity before
//    each use: a host that closed it or put its own file there never receives a byte of ours.
// All functions are async-signal-safe (raw system calls on the stack, no errno, no locks).
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/record.hpp"

namespace cowtrace::shim {

// The collector answers a census request with this 8-byte message.
inline constexpr uint32_t kCensusAckMagic = 0x41574f43;  // "COWA"
struct CensusAck {
    uint32_t magic;
    uint32_t status;  // 0 done, 1 skipped (no episode, or census disabled)
};

// Sends a finished record (header included). In a vfork child it uses the parent's connection
// without changing any global state.
void channel_send(void* record, size_t size);

// In a newly forked child: leave the parent's connection to the parent and open our own, so the
// census handshake's answer comes back to us.
void channel_reopen_in_child();

// Sends a census request and waits (bounded) for the collector's answer. False when there was
// no collector to ask or it did not answer in time.
// reason says, for a final census, whether the child is about to exit or exec.
bool channel_census(wire::CensusKind kind, wire::EpisodeEnd reason);

// fd guard: the host is about to close or replace fd. If it is one of ours, move ours away first
// (to a number above avoid_upto) so the host gets exactly what it would get without us. True
// when fd still holds ours: no free number above avoid_upto, or a vfork child (which must leave
// our globals alone). The caller then treats fd as one the host never opened.
bool channel_evacuate(int fd, int avoid_upto);

// Whether a new image of this process could reach the collector (or the spool) with the
// process's current effective uid: false after a switch to a uid other than the collector's.
bool collector_reachable_by_new_image();

// Gives up our descriptor fd (closes it; the channel reconnects on its next record), so the
// host can have the number. No-op in a vfork child.
void channel_abandon(int fd);

// channel_evacuate for every descriptor in [first, last]; ours that cannot move are abandoned.
void channel_evacuate_range(int first, int last);

// Our descriptors numbered from first up, in ascending order, into out; returns how many.
// (A close to the top of the table closes around them: there is nowhere above to move them,
// and a new connection would take the lowest free number, which the host may be about to get.)
int channel_fds_from(int first, int (&out)[2]);

// Records that could not be delivered or spooled since the last report.
uint64_t channel_dropped();

}  // namespace cowtrace::shim

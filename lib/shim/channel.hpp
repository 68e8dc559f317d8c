// The shim's way out: one SOCK_SEQPACKET connection per process to the collector, or the spool
// file when no collector answers. Failure policy, applied here and nowhere else:
//  - a send blocks the host at most send_timeout_ms, then the record is spooled or counted, and
//    until the collector keeps up again sends do not wait at all (a stalled collector costs the
//    host one timeout, not one per record);
//  - every record carries a per-process sequence number, so the collector sees any gap;
//  - what could be neither sent nor spooled is counted and reported (Dropped) once a send works.
// Our descriptors are the business of owned_fd.hpp. All functions are async-signal-safe (raw
// system calls on the stack, no errno, no locks).
#pragma once

#include <cstddef>

#include "process_state.hpp"

namespace cowtrace::shim {

// Sends a finished record (header included) for caller. In a vfork child it uses the parent's
// connection without changing any global state.
void channel_send(void* record, size_t size, const Caller& caller);

// A forked child sends on the connection it inherited (the collector tells senders apart by
// the kernel's credentials on each message). Before it waits for an answer (the census
// handshake), it leaves that connection to its parent and opens its own, so the answer comes
// back to it. Returns whether this process now has its own connection.
bool channel_use_own_connection();

// In a newly forked child: what the parent counted (records it dropped) is not the child's.
void channel_after_fork();

// Sends one message on fd: 0, or -errno. Waits (up to the send timeout) unless congested.
long channel_send_on(int fd, const void* message, size_t size);

// The collector stopped keeping up: until it recovers, sends do not wait and children do not
// ask for a census.
bool channel_congested();
void channel_note_congestion();

}  // namespace cowtrace::shim

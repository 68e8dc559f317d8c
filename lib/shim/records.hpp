// The only way a record leaves the library: send(record) encodes it on the stack (the struct's
// fields, in the order lib/wire defines once), stamps it and hands it to the channel.
// Async-signal-safe; no allocation (vfork children, forked children of threaded programs).
#pragma once

#include <cstddef>
#include <cstdint>

#include "channel.hpp"
#include "process_state.hpp"
#include "wire/field_codec.hpp"
#include "wire/shim_records.hpp"

namespace cowtrace::shim {

// Who sends (the event's caller), when, with which sequence number. A vfork child marks its
// records and leaves the sequence alone: the counter belongs to the parent whose memory it
// borrows.
wire::RecordStamp next_stamp(const Caller& caller);

template <class Record>
void send(const Record& record, const Caller& caller) {
    alignas(8) uint8_t buf[Record::kMaxBytes];
    channel_send(buf, wire::encode_record(record, next_stamp(caller), buf, sizeof buf), caller);
}

// The first record of an image: who it is (AT_EXECFN, its arguments, uids). argv: as the
// constructor was given it, or nullptr to read /proc/self/cmdline (a late initialisation).
void send_hello(uint32_t hello_flags, char* const* argv, const Caller& caller);

}  // namespace cowtrace::shim

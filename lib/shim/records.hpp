// The only way a record leaves the library: send(record) encodes it on the stack (the struct's
// fields, in the order lib/wire defines once), stamps it and hands it to the channel.
// Async-signal-safe; no allocation (vfork children, forked children of threaded programs).
#pragma once

#include <cstddef>
#include <cstdint>

#include "channel.hpp"
#include "wire/field_codec.hpp"
#include "wire/shim_records.hpp"

namespace cowtrace::shim {

// Who sends, when, with which sequence number. A vfork child marks its records and leaves the
// sequence alone: the counter belongs to the parent whose memory it borrows.
wire::RecordStamp next_stamp();

template <class Record>
void send(const Record& record) {
    alignas(8) uint8_t buf[Record::kMaxBytes];
    channel_send(buf, wire::encode_record(record, next_stamp(), buf, sizeof buf));
}

// The first record of an image: who it is (AT_EXECFN, /proc/self/cmdline, uids).
void send_hello(uint32_t hello_flags);

}  // namespace cowtrace::shim

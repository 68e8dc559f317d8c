// One collector record encoded into a buffer of its own: for the collector's worker threads,
// which hand records to the event loop rather than touch the trace file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "wire/field_codec.hpp"

namespace cowtrace::collector {

template <class R>
std::vector<uint8_t> encode_record_buffer(const R& record, pid_t pid, uint64_t t_ns,
                                          size_t capacity) {
    std::vector<uint8_t> buf(capacity);
    wire::RecordStamp stamp;
    stamp.pid = pid;
    stamp.tid = pid;
    stamp.t_ns = t_ns;
    buf.resize(wire::encode_record(record, stamp, buf.data(), buf.size()));
    return buf;
}

}  // namespace cowtrace::collector

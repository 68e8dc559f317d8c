// Feeds a TraceBuilder's records to a LiveState as the session's trace writer would.
#pragma once

#include <cstring>
#include <vector>

#include "live/live_state.hpp"
#include "trace_builder.hpp"

namespace cowtrace::live {

inline void feed(LiveState& state, const testing::TraceBuilder& b) {
    for (const RawRecord& r : b.records()) {
        std::vector<uint8_t> bytes(sizeof r.header + r.payload.size());
        memcpy(bytes.data(), &r.header, sizeof r.header);
        memcpy(bytes.data() + sizeof r.header, r.payload.data(), r.payload.size());
        state.on_record(bytes.data(), bytes.size());
    }
}

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kMs = 1'000'000;

}  // namespace cowtrace::live

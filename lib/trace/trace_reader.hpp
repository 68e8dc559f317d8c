// Reads a trace (or spool) file without trusting it: every length is checked against the file
// and the format's limits before use. A damaged file yields its valid prefix and an error that
// says where the damage starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "wire/field_codec.hpp"
#include "wire/record.hpp"

namespace cowtrace {

struct RawRecord {
    wire::RecordHeader header;
    std::span<const uint8_t> payload;  // fields after the header
    uint64_t offset = 0;               // where the record starts in the file
};

// The fields of rec as the record struct R (wire/shim_records.hpp, wire/collector_records.hpp).
// Text and lists in out point into rec's payload. False when a length inside the payload points
// past its end; the fields read before that are kept.
template <class R>
bool decode(const RawRecord& rec, R& out) {
    return wire::decode_payload(rec.payload.data(), rec.payload.size(), out);
}

class TraceReader {
public:
    TraceReader() = default;
    ~TraceReader();
    TraceReader(const TraceReader&) = delete;
    TraceReader& operator=(const TraceReader&) = delete;

    // Opens and maps path; false with error() set if it is not a cowtrace file.
    bool open(const std::string& path);
    // Reads from memory (tests, fuzzing); the buffer must outlive the reader.
    bool open_buffer(const uint8_t* data, size_t size);

    // The next record, or false at the end of the valid records (check error()).
    bool next(RawRecord& out);

    const std::string& error() const { return error_; }
    uint32_t format_version() const { return version_; }

private:
    bool check_header();

    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    size_t pos_ = 0;
    bool mapped_ = false;
    uint32_t version_ = 0;
    std::string error_;
};

}  // namespace cowtrace

// Reads a trace (or spool) file without trusting it: every length is checked against the file
// and the format's limits before use. A damaged file yields its valid prefix and an error that
// says where the damage starts. Both file versions (trace_file_versions.hpp) read alike: a
// compressed file is decompressed at open into memory the reader owns, and its offsets count
// the records as if they followed the header uncompressed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "trace/decompressed_records.hpp"
#include "wire/field_codec.hpp"
#include "wire/record.hpp"

namespace cowtrace {

struct RawRecord {
    wire::RecordHeader header;
    std::span<const uint8_t> payload;  // fields after the header
    uint64_t offset = 0;  // where the record starts in the file (decompressed, for version 2)
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

    // Opens and maps path (decompresses it, if compressed); false with error() set if it is
    // not a cowtrace file.
    bool open(const std::string& path);
    // Reads from memory (tests, fuzzing); the buffer must outlive the reader (records of a
    // compressed buffer point into the reader's own memory instead).
    bool open_buffer(const uint8_t* data, size_t size);

    // The next record, or false at the end of the valid records (check error()). The record's
    // payload stays valid as long as the reader.
    bool next(RawRecord& out);

    const std::string& error() const { return error_; }
    uint32_t format_version() const { return version_; }

private:
    bool check_header();
    void unmap();
    // Ends the valid records with what (empty: they just ended), and with how a compressed
    // stream ended if not whole; at_the_end: what is about the records' last bytes.
    bool stop(std::string what, bool at_the_end);

    const uint8_t* data_ = nullptr;  // the file
    size_t size_ = 0;
    bool mapped_ = false;
    const uint8_t* records_ = nullptr;  // the records: in the file, or decompressed_
    size_t records_size_ = 0;
    size_t header_size_ = 0;  // what an offset adds to a position in records_
    size_t pos_ = 0;
    DecompressedRecords decompressed_;
    uint32_t version_ = 0;
    std::string error_;
};

}  // namespace cowtrace

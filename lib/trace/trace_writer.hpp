// Writes the trace file: the file header, then records in the order the collector handles
// them, compressed (version 2, trace_file_versions.hpp). A write error (disk full) never stops
// the run: it is counted and reported at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "trace/record_compressor.hpp"
#include "wire/field_codec.hpp"
#include "wire/record.hpp"

namespace cowtrace {

class TraceWriter {
public:
    TraceWriter();
    ~TraceWriter();
    TraceWriter(const TraceWriter&) = delete;
    TraceWriter& operator=(const TraceWriter&) = delete;

    // Creates (or truncates) path with mode 0600; the file header goes with the first flush.
    bool open(const std::string& path, std::string& error);

    // A record exactly as received (header included).
    void append(const void* record, size_t size);

    // Called with every record appended from now on, before it is buffered (the metrics
    // exporter reads the same stream as the trace).
    using Observer = std::function<void(const uint8_t* record, size_t size)>;
    void observe(Observer observer) { observer_ = std::move(observer); }

    // A record of the collector's own (wire/collector_records.hpp), about pid, at t_ns.
    template <class R>
    void write(const R& record, int32_t pid, uint64_t t_ns) {
        if (scratch_.size() < wire::kMaxRecordSize) scratch_.resize(wire::kMaxRecordSize);
        wire::RecordStamp stamp;
        stamp.pid = pid;
        stamp.tid = pid;
        stamp.t_ns = t_ns;
        size_t n = wire::encode_record(record, stamp, scratch_.data(), scratch_.size());
        if (n != 0) append(scratch_.data(), n);
    }

    // Compresses what is buffered and writes it, ending a zstd block: the file reads whole up
    // to here even if the collector is killed next.
    bool flush();
    // Flushes if the buffer holds data older than max_age_ns: a collector that is killed must
    // leave most of its trace on disk.
    void flush_if_older(uint64_t now_ns, uint64_t max_age_ns);
    // Flushes, ends the zstd frame and closes; false with error set if any record could not
    // be written.
    bool close(std::string& error);

    // Bytes of records (uncompressed) that could not be written.
    uint64_t bytes_lost() const { return bytes_lost_; }
    // The length of the file with what is buffered, compressed at the ratio so far: where
    // rotation by size looks.
    uint64_t bytes_written() const;
    std::string write_error() const;  // the first write error, as strerror says it
    const std::string& path() const { return path_; }

private:
    void buffer(const void* bytes, size_t size);
    // Compresses the buffer (ending the frame if end_frame) and writes it after what is owed.
    bool write_buffer(bool end_frame);
    // Writes out_ whole, or cuts the file back to its length before (false).
    bool write_out();

    int fd_ = -1;
    Observer observer_;
    std::string path_;
    std::vector<uint8_t> buffer_;  // records, uncompressed
    std::vector<uint8_t> out_;     // what one flush writes
    std::vector<uint8_t> scratch_;
    RecordCompressor compressor_;
    uint64_t bytes_lost_ = 0;
    uint64_t whole_bytes_ = 0;         // the file's length up to its last whole write
    uint64_t records_compressed_ = 0;  // bytes of records compressed into this file …
    uint64_t compressed_bytes_ = 0;    // … and what they became: the ratio bytes_written() uses
    bool header_on_disk_ = false;
    bool frame_on_disk_ = false;   // the file ends inside a zstd frame (after a flush)
    bool frame_end_owed_ = false;  // that frame's last blocks were lost: end it before more
    bool cut_mid_write_ = false;   // part of a write stayed and could not be cut away
    uint64_t last_flush_ns_ = 0;
    int first_errno_ = 0;
};

}  // namespace cowtrace

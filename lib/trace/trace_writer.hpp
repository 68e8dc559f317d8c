// Writes the trace file: the file header, then records in the order the collector handles
// them. A write error (disk full) never stops the run: it is counted and reported at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "wire/field_codec.hpp"
#include "wire/record.hpp"

namespace cowtrace {

class TraceWriter {
public:
    TraceWriter() = default;
    ~TraceWriter();
    TraceWriter(const TraceWriter&) = delete;
    TraceWriter& operator=(const TraceWriter&) = delete;

    // Creates (or truncates) path with mode 0600 and writes the file header.
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

    bool flush();
    // Flushes if the buffer holds data older than max_age_ns: a collector that is killed must
    // leave most of its trace on disk.
    void flush_if_older(uint64_t now_ns, uint64_t max_age_ns);
    // Flushes and closes; false with error set if any byte could not be written.
    bool close(std::string& error);

    uint64_t bytes_lost() const { return bytes_lost_; }
    // The length of the file with what is buffered: where rotation by size looks.
    uint64_t bytes_written() const { return whole_bytes_ + buffer_.size(); }
    std::string write_error() const;  // the first write error, as strerror says it
    const std::string& path() const { return path_; }

private:
    void buffer(const void* bytes, size_t size);

    int fd_ = -1;
    Observer observer_;
    std::string path_;
    std::vector<uint8_t> buffer_;
    std::vector<uint8_t> scratch_;
    uint64_t bytes_lost_ = 0;
    uint64_t whole_bytes_ = 0;  // the file's length up to its last whole record
    bool cut_mid_record_ = false;
    uint64_t last_flush_ns_ = 0;
    int first_errno_ = 0;
};

}  // namespace cowtrace

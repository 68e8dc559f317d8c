#include "trace_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "trace/trace_file_versions.hpp"

namespace cowtrace {

namespace {
constexpr size_t kBufferBytes = 1 << 20;
// zstd's fastest level: the collector compresses on its event loop, which must take a million
// records a second (docs/PERFORMANCE.md, "Trace size (issue 15)").
constexpr int kCompressionLevel = 1;
}  // namespace

TraceWriter::TraceWriter() : compressor_(kCompressionLevel) {}

TraceWriter::~TraceWriter() {
    std::string ignored;
    close(ignored);
}

bool TraceWriter::open(const std::string& path, std::string& error) {
    // A file of another user (left in a shared directory) would keep its owner, who could then
    // read or replace the trace: refuse it rather than write into it.
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid != geteuid()) {
        error = "will not write the trace into " + path + ": it belongs to uid " +
                std::to_string(st.st_uid) + "; remove it or choose another path";
        return false;
    }
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) {
        error = "cannot create trace file " + path + ": " + strerror(errno);
        return false;
    }
    // A writer may open the next file of a rotation.
    path_ = path;
    whole_bytes_ = 0;
    records_compressed_ = 0;
    compressed_bytes_ = 0;
    header_on_disk_ = false;
    frame_on_disk_ = false;
    frame_end_owed_ = false;
    cut_mid_write_ = false;
    compressor_.restart();
    buffer_.reserve(kBufferBytes);
    return true;
}

void TraceWriter::append(const void* record, size_t size) {
    if (observer_) observer_(static_cast<const uint8_t*>(record), size);
    buffer(record, size);
}

void TraceWriter::buffer(const void* record, size_t size) {
    if (fd_ < 0) return;
    if (buffer_.size() + size > kBufferBytes) flush();
    auto* p = static_cast<const uint8_t*>(record);
    buffer_.insert(buffer_.end(), p, p + size);
}

bool TraceWriter::flush() {
    if (fd_ < 0 || (buffer_.empty() && header_on_disk_)) return true;
    return write_buffer(false);
}

bool TraceWriter::write_buffer(bool end_frame) {
    if (cut_mid_write_) {  // nothing written after this would be readable
        bytes_lost_ += buffer_.size();
        buffer_.clear();
        return false;
    }
    out_.clear();
    if (!header_on_disk_) {
        uint8_t header[wire::kFileHeaderSize];
        encode_compressed_file_header(header);
        out_.insert(out_.end(), header, header + sizeof header);
    }
    if (frame_end_owed_) RecordCompressor::end_cut_frame(out_);
    size_t before = out_.size();
    bool compressed =
        end_frame ? compressor_.finish(buffer_, out_) : compressor_.compress(buffer_, out_);
    if (compressed && write_out()) {
        records_compressed_ += buffer_.size();
        compressed_bytes_ += out_.size() - before;
        header_on_disk_ = true;
        frame_end_owed_ = false;
        // The first output of a frame starts it; its last ends it.
        frame_on_disk_ = !end_frame && (frame_on_disk_ || out_.size() > before);
        buffer_.clear();
        return first_errno_ == 0;
    }
    // The file is back to its length before this write (or cut for good): the frame under
    // way lost blocks, so later records start a new one, after the old one is ended.
    bytes_lost_ += buffer_.size();
    buffer_.clear();
    frame_end_owed_ = frame_end_owed_ || frame_on_disk_;
    frame_on_disk_ = false;
    compressor_.restart();
    return false;
}

bool TraceWriter::write_out() {
    size_t done = 0;
    while (done < out_.size()) {
        ssize_t n = ::write(fd_, out_.data() + done, out_.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (first_errno_ == 0) first_errno_ = n < 0 ? errno : ENOSPC;
            // Cut the file back to where this write started, so what is written later (once
            // space is freed) still follows a whole zstd block.
            if (ftruncate(fd_, static_cast<off_t>(whole_bytes_)) != 0 ||
                lseek(fd_, static_cast<off_t>(whole_bytes_), SEEK_SET) < 0) {
                cut_mid_write_ = done != 0;
                whole_bytes_ += done;
            }
            return false;
        }
        done += static_cast<size_t>(n);
    }
    whole_bytes_ += done;
    return true;
}

uint64_t TraceWriter::bytes_written() const {
    uint64_t pending = header_on_disk_ ? 0 : wire::kFileHeaderSize;
    if (records_compressed_ > 0) {
        pending += buffer_.size() * compressed_bytes_ / records_compressed_;
    } else {
        pending += buffer_.size();
    }
    return whole_bytes_ + pending;
}

std::string TraceWriter::write_error() const {
    return first_errno_ == 0 ? std::string("no error") : std::string(strerror(first_errno_));
}

void TraceWriter::flush_if_older(uint64_t now_ns, uint64_t max_age_ns) {
    if (buffer_.empty() && header_on_disk_) {
        last_flush_ns_ = now_ns;
        return;
    }
    if (now_ns - last_flush_ns_ >= max_age_ns) {
        flush();
        last_flush_ns_ = now_ns;
    }
}

bool TraceWriter::close(std::string& error) {
    if (fd_ < 0) return first_errno_ == 0;
    write_buffer(true);
    if (::close(fd_) != 0 && first_errno_ == 0) first_errno_ = errno;
    fd_ = -1;
    if (first_errno_ != 0) {
        error = "trace " + path_ + " is incomplete: " + std::to_string(bytes_lost_) +
                " bytes could not be written (" + strerror(first_errno_) + ")";
        return false;
    }
    return true;
}

}  // namespace cowtrace

#include "trace_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cowtrace::collector {

namespace {
constexpr size_t kBufferBytes = 1 << 20;
}

TraceWriter::~TraceWriter() {
    std::string ignored;
    close(ignored);
}

bool TraceWriter::open(const std::string& path, std::string& error) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) {
        error = "cannot create trace file " + path + ": " + strerror(errno);
        return false;
    }
    path_ = path;
    buffer_.reserve(kBufferBytes);
    uint8_t header[wire::kFileHeaderSize] = {};
    memcpy(header, wire::kFileMagic, 8);
    uint32_t version = wire::kFormatVersion, size = wire::kFileHeaderSize;
    memcpy(header + 8, &version, 4);
    memcpy(header + 12, &size, 4);
    append(header, sizeof header);
    return true;
}

void TraceWriter::append(const void* record, size_t size) {
    if (fd_ < 0) return;
    if (buffer_.size() + size > kBufferBytes) flush();
    auto* p = static_cast<const uint8_t*>(record);
    buffer_.insert(buffer_.end(), p, p + size);
}

bool TraceWriter::flush() {
    if (fd_ < 0 || buffer_.empty()) return true;
    size_t done = 0;
    while (done < buffer_.size()) {
        ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (first_errno_ == 0) first_errno_ = n < 0 ? errno : ENOSPC;
            bytes_lost_ += buffer_.size() - done;
            // Keep the file a sequence of whole records: cut back to what was written whole.
            break;
        }
        done += static_cast<size_t>(n);
    }
    buffer_.clear();
    return first_errno_ == 0;
}

void TraceWriter::flush_if_older(uint64_t now_ns, uint64_t max_age_ns) {
    if (buffer_.empty()) {
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
    flush();
    if (::close(fd_) != 0 && first_errno_ == 0) first_errno_ = errno;
    fd_ = -1;
    if (first_errno_ != 0) {
        error = "trace " + path_ + " is incomplete: " + std::to_string(bytes_lost_) +
                " bytes could not be written (" + strerror(first_errno_) + ")";
        return false;
    }
    return true;
}

}  // namespace cowtrace::collector

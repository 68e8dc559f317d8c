#include "trace_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cowtrace {

namespace {
constexpr size_t kBufferBytes = 1 << 20;
}

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
    path_ = path;
    whole_bytes_ = 0;  // a writer may open the next file of a rotation
    cut_mid_record_ = false;
    buffer_.reserve(kBufferBytes);
    uint8_t header[wire::kFileHeaderSize];
    wire::encode_file_header(header);
    buffer(header, sizeof header);
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
    if (fd_ < 0 || buffer_.empty()) return true;
    if (cut_mid_record_) {  // nothing written after this would be readable
        bytes_lost_ += buffer_.size();
        buffer_.clear();
        return false;
    }
    size_t done = 0;
    while (done < buffer_.size()) {
        ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (first_errno_ == 0) first_errno_ = n < 0 ? errno : ENOSPC;
            // The buffer holds whole records: cut the file back to where it started, so what
            // is written later (once space is freed) still follows a whole record.
            if (ftruncate(fd_, static_cast<off_t>(whole_bytes_)) == 0 &&
                lseek(fd_, static_cast<off_t>(whole_bytes_), SEEK_SET) >= 0) {
                done = 0;
            } else {
                cut_mid_record_ = done != 0;
            }
            bytes_lost_ += buffer_.size() - done;
            whole_bytes_ += done;
            buffer_.clear();
            return false;
        }
        done += static_cast<size_t>(n);
    }
    whole_bytes_ += done;
    buffer_.clear();
    return first_errno_ == 0;
}

std::string TraceWriter::write_error() const {
    return first_errno_ == 0 ? std::string("no error") : std::string(strerror(first_errno_));
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

}  // namespace cowtrace

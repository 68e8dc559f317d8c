#include "trace_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "trace/trace_file_versions.hpp"

namespace cowtrace {

TraceReader::~TraceReader() {
    unmap();
}

void TraceReader::unmap() {
    if (mapped_ && size_ > 0) munmap(const_cast<uint8_t*>(data_), size_);
    mapped_ = false;
}

bool TraceReader::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error_ = path + ": " + strerror(errno);
        return false;
    }
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        error_ = path + ": not a regular file";
        ::close(fd);
        return false;
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
        void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            error_ = path + ": " + strerror(errno);
            ::close(fd);
            return false;
        }
        data_ = static_cast<const uint8_t*>(p);
        mapped_ = true;
    }
    ::close(fd);
    if (!check_header()) {
        error_ = path + ": " + error_;
        return false;
    }
    // The records of a compressed file are in memory of the reader's own now.
    if (version_ == kCompressedTraceVersion) unmap();
    return true;
}

bool TraceReader::open_buffer(const uint8_t* data, size_t size) {
    data_ = data;
    size_ = size;
    return check_header();
}

bool TraceReader::check_header() {
    // An empty or cut header is told apart from a foreign file: a collector killed before its
    // first flush leaves an empty trace, and "bad magic" would send the user the wrong way.
    if (size_ == 0) {
        error_ = "empty file (no trace header)";
        return false;
    }
    if (memcmp(data_, wire::kFileMagic, std::min(size_, sizeof wire::kFileMagic)) != 0) {
        error_ = "not a cowtrace trace (bad magic)";
        return false;
    }
    if (size_ < wire::kFileHeaderSize) {
        error_ = "truncated file header (" + std::to_string(size_) + " of " +
                 std::to_string(wire::kFileHeaderSize) + " bytes)";
        return false;
    }
    uint32_t header_size = 0;
    memcpy(&version_, data_ + 8, 4);
    memcpy(&header_size, data_ + 12, 4);
    if (version_ == 0 || version_ > kNewestTraceVersion) {
        error_ = "trace format version " + std::to_string(version_) +
                 " is not supported (this cowtrace reads up to " +
                 std::to_string(kNewestTraceVersion) + ")";
        return false;
    }
    if (header_size < wire::kFileHeaderSize || header_size > size_) {
        error_ = "bad file header size " + std::to_string(header_size);
        return false;
    }
    header_size_ = header_size;
    pos_ = 0;
    if (version_ == kCompressedTraceVersion) {
        decompressed_.decompress(data_ + header_size, size_ - header_size);
        records_ = decompressed_.data();
        records_size_ = decompressed_.size();
    } else {
        records_ = data_ + header_size;
        records_size_ = size_ - header_size;
    }
    return true;
}

bool TraceReader::stop(std::string what, bool at_the_end) {
    // Where a compressed stream stopped early, the records end there: say why, in the same
    // offsets as the records'. A stream that stops after a whole block (a flush, or a cut that
    // fell between two blocks) is only known to be cut when it leaves a record unfinished.
    using End = DecompressedRecords::End;
    std::string end_offset = std::to_string(header_size_ + records_size_);
    std::string stream;
    if (decompressed_.end() == End::kCut ||
        (decompressed_.end() == End::kAfterBlock && at_the_end && !what.empty())) {
        stream = "the compressed file is cut: nothing decompresses after offset " + end_offset;
    } else if (decompressed_.end() == End::kDamaged) {
        stream = "the compressed file is damaged: nothing decompresses after offset " + end_offset +
                 " (" + decompressed_.why() + ")";
    }
    error_ = what.empty() ? stream : stream.empty() ? what : what + "; " + stream;
    return false;
}

bool TraceReader::next(RawRecord& out) {
    if (!error_.empty()) return false;
    if (pos_ >= records_size_) return stop("", true);
    size_t left = records_size_ - pos_;
    uint64_t offset = header_size_ + pos_;
    if (left < sizeof(wire::RecordHeader)) {
        return stop("truncated record header at offset " + std::to_string(offset), true);
    }
    memcpy(&out.header, records_ + pos_, sizeof out.header);
    uint32_t size = out.header.size;
    if (size < sizeof(wire::RecordHeader) || size > wire::kMaxRecordSize) {
        return stop("corrupt record length " + std::to_string(size) + " at offset " +
                        std::to_string(offset),
                    false);
    }
    if (size > left) {
        return stop("truncated record at offset " + std::to_string(offset) + " (" +
                        std::to_string(size) + " bytes declared, " + std::to_string(left) +
                        " left)",
                    true);
    }
    out.payload = std::span<const uint8_t>(records_ + pos_ + sizeof(wire::RecordHeader),
                                           size - sizeof(wire::RecordHeader));
    out.offset = offset;
    pos_ += size;
    return true;
}

}  // namespace cowtrace

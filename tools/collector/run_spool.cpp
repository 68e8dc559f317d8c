#include "run_spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "trace/trace_reader.hpp"
#include "wire/collector_records.hpp"

namespace cowtrace::collector {

namespace {

std::string absolute(const std::string& path) {
    std::error_code ec;
    return std::filesystem::absolute(path, ec).string();
}

void note(TraceWriter& trace, int32_t pid, uint64_t t_ns, wire::NoteCode code,
          const std::string& text) {
    wire::CollectorNote n;
    n.severity = wire::NoteSeverity::kWarning;
    n.code = code;
    n.text = text;
    trace.write(n, pid, t_ns);
}

}  // namespace

RunSpool::RunSpool(const std::string& trace_path) : path_(absolute(trace_path + ".spool")) {}

bool RunSpool::create(std::string& error) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            uint8_t header[wire::kFileHeaderSize];
            wire::encode_file_header(header);
            bool ok = write(fd, header, sizeof header) == static_cast<ssize_t>(sizeof header);
            close(fd);
            if (ok) return true;
            error = "cannot write the spool file " + path_;
            unlink(path_.c_str());
            return false;
        }
        struct stat st {};
        if (errno != EEXIST || lstat(path_.c_str(), &st) != 0) break;
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
            error = path_ + " already exists and is not a file of ours (owner uid " +
                    std::to_string(st.st_uid) + "): remove it or choose another trace path";
            return false;
        }
        unlink(path_.c_str());  // left by an earlier run that wrote the same trace
    }
    error = "cannot create the spool file " + path_ + ": " + strerror(errno);
    return false;
}

uint64_t RunSpool::fold_into(TraceWriter& trace, int32_t collector_pid, uint64_t t_ns) {
    struct stat st {};
    if (lstat(path_.c_str(), &st) != 0) return 0;
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        note(trace, collector_pid, t_ns, wire::NoteCode::kSpoolReplaced,
             path_ + " was replaced by a file of uid " + std::to_string(st.st_uid) +
                 ": its records were not used");
        return 0;
    }
    TraceReader spool;
    if (!spool.open(path_)) {
        unlink(path_.c_str());  // not even a header: the library never wrote to it
        return 0;
    }
    RawRecord rec;
    uint64_t n = 0;
    while (spool.next(rec)) {
        trace.append(rec.payload.data() - sizeof(wire::RecordHeader), rec.header.size);
        ++n;
    }
    unlink(path_.c_str());
    if (n > 0) {
        note(trace, collector_pid, t_ns, wire::NoteCode::kSpoolFoldedIn,
             std::to_string(n) +
                 " records reached the collector late (it did not keep up) and were taken from "
                 "the spool file");
    }
    return n;
}

}  // namespace cowtrace::collector

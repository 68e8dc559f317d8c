#include "spool.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include "config.hpp"
#include "fd_table_lock.hpp"
#include "owned_fd.hpp"
#include "raw_syscall.hpp"
#include "wire/record.hpp"

namespace cowtrace::shim {

namespace {

// "<path>.<pid>.tmp", unique per process, digits written by hand (no snprintf here). False if it
// does not fit.
bool temporary_name(const char* path, char (&out)[kPathBytes + 32]) {
    size_t n = strnlen(path, kPathBytes);
    if (n + 24 >= sizeof out) return false;
    memcpy(out, path, n);
    char digits[16];
    int d = 0;
    for (unsigned v = static_cast<unsigned>(raw_getpid()); v != 0 || d == 0; v /= 10) {
        digits[d++] = static_cast<char>('0' + v % 10);
    }
    out[n++] = '.';
    while (d > 0) out[n++] = digits[--d];
    memcpy(out + n, ".tmp", 5);
    return true;
}

// Opens the spool for appending, creating it with its header in place: the header goes into a
// private temporary file that is then linked under the final name, so no process ever appends
// to a headerless spool. Whoever loses the race just appends.
int open_spool() {
    const ShimConfig& c = config();
    if (c.spool_path[0] == '\0') return -1;
    constexpr int kFlags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
    long fd = raw_syscall(SYS_open, rs_arg(c.spool_path), kFlags, 0);
    char tmp[kPathBytes + 32];
    if (fd == -ENOENT && temporary_name(c.spool_path, tmp)) {
        long t = raw_syscall(SYS_open, rs_arg(tmp),
                             O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (t >= 0) {
            t = move_high(static_cast<int>(t), kPreferredLowestFd);
            // A host thread's range close took its low number: the file must not stay behind.
            if (t < 0) raw_syscall(SYS_unlink, rs_arg(tmp));
        }
        if (t >= 0) {
            uint8_t header[wire::kFileHeaderSize];
            wire::encode_file_header(header);
            raw_syscall(SYS_write, t, rs_arg(header), sizeof header);
            raw_close(static_cast<int>(t));
            raw_syscall(SYS_link, rs_arg(tmp), rs_arg(c.spool_path));
            raw_syscall(SYS_unlink, rs_arg(tmp));
        }
        fd = raw_syscall(SYS_open, rs_arg(c.spool_path), kFlags, 0);
    }
    if (fd < 0) return -1;
    return move_high(static_cast<int>(fd), kPreferredLowestFd);
}

}  // namespace

bool spool_write(void* record, size_t size, bool may_keep_open) {
    int fd = spool_file().verified();
    bool temporary = false;
    if (fd < 0) {
        FdTableLock lock;  // from the open to the install (fd_table_lock.hpp)
        fd = open_spool();
        if (fd < 0) return false;
        if (may_keep_open) {
            spool_file().install(fd);
        } else {
            temporary = true;
        }
    }
    static_cast<wire::RecordHeader*>(record)->flags |= wire::kFromSpool;
    long r;
    do {
        r = raw_syscall(SYS_write, fd, rs_arg(record), size);
    } while (r == -EINTR);
    if (temporary) raw_close(fd);
    return r == static_cast<long>(size);
}

}  // namespace cowtrace::shim

#include "pagemap.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace cowtrace::pagemap {

namespace {

constexpr size_t kPageSize = 4096;
constexpr size_t kEntriesPerRead = 128 * 1024;  // 1 MiB of entries: chunk size hardly matters

struct PageRegion {
    uint64_t start;
    uint64_t end;
    uint64_t categories;
};

struct PmScanArg {
    uint64_t size;
    uint64_t flags;
    uint64_t start;
    uint64_t end;
    uint64_t walk_end;
    uint64_t vec;
    uint64_t vec_len;
    uint64_t max_pages;
    uint64_t category_inverted;
    uint64_t category_mask;
    uint64_t category_anyof_mask;
    uint64_t return_mask;
};
static_assert(sizeof(PmScanArg) == 96);

constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);

std::atomic<int> g_scan_state{0};  // 0 unknown, 1 works, -1 not supported

}  // namespace

PagemapReader::~PagemapReader() {
    if (fd_ >= 0) ::close(fd_);
}

PagemapReader::PagemapReader(PagemapReader&& o) noexcept : fd_(o.fd_) {
    o.fd_ = -1;
}

PagemapReader& PagemapReader::operator=(PagemapReader&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}

bool PagemapReader::open(pid_t pid, std::string& error) {
    std::string path = "/proc/" + std::to_string(pid) + "/pagemap";
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
        error = path + ": " + strerror(errno);
        return false;
    }
    return true;
}

bool PagemapReader::address_space_alive() const {
    // Every address has an entry, mapped or not: only a vanished address space reads nothing.
    uint64_t entry = 0;
    ssize_t got;
    do {
        got = pread(fd_, &entry, sizeof entry, 0);
    } while (got < 0 && errno == EINTR);
    return got == static_cast<ssize_t>(sizeof entry);
}

bool PagemapReader::read(uint64_t start, uint64_t end, std::vector<uint64_t>& out) {
    out.resize(static_cast<size_t>((end - start) / kPageSize));
    return read(start, end, out.data());
}

bool PagemapReader::read(uint64_t start, uint64_t end, uint64_t* out) {
    size_t pages = static_cast<size_t>((end - start) / kPageSize);
    size_t done = 0;
    while (done < pages) {
        size_t n = std::min(pages - done, kEntriesPerRead);
        off_t offset = static_cast<off_t>((start / kPageSize + done) * sizeof(uint64_t));
        ssize_t got = pread(fd_, out + done, n * sizeof(uint64_t), offset);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;  // 0: the address space is gone
        done += static_cast<size_t>(got) / sizeof(uint64_t);
    }
    return true;
}

bool PagemapReader::read_one(uint64_t address, uint64_t& entry) {
    off_t offset = static_cast<off_t>(address / kPageSize * sizeof(uint64_t));
    ssize_t got;
    do {
        got = pread(fd_, &entry, sizeof entry, offset);
    } while (got < 0 && errno == EINTR);
    return got == static_cast<ssize_t>(sizeof entry);
}

bool PagemapReader::populated_runs(uint64_t start, uint64_t end, std::vector<PageRun>& out) {
    return scan(start, end, 0, 0, kPageIsPresent | kPageIsSwapped,
                kPageIsFile | kPageIsPresent | kPageIsSwapped | kPageIsPfnZero | kPageIsHuge, out);
}

bool PagemapReader::private_anon_runs(uint64_t start, uint64_t end, std::vector<PageRun>& out) {
    // Present, neither file-backed nor shared (FILE) nor the zero page (PFNZERO). Returning only
    // PRESENT lets the kernel merge every such stretch into one run.
    constexpr uint64_t kNot = kPageIsFile | kPageIsPfnZero;
    return scan(start, end, kNot, kNot | kPageIsPresent, 0, kPageIsPresent, out);
}

bool PagemapReader::scan(uint64_t start, uint64_t end, uint64_t inverted, uint64_t required,
                         uint64_t any_of, uint64_t returned, std::vector<PageRun>& out) {
    out.clear();
    if (g_scan_state.load(std::memory_order_relaxed) < 0) return false;
    thread_local std::vector<PageRegion> vec(512);  // reused: this runs for every mapping
    uint64_t cursor = start;
    while (cursor < end) {
        PmScanArg arg{};
        arg.size = sizeof arg;
        arg.start = cursor;
        arg.end = end;
        arg.vec = reinterpret_cast<uint64_t>(vec.data());
        arg.vec_len = vec.size();
        arg.category_inverted = inverted;
        arg.category_mask = required;
        arg.category_anyof_mask = any_of;
        arg.return_mask = returned;
        long n = ioctl(fd_, kPagemapScan, &arg);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOTTY || errno == EINVAL || errno == EOPNOTSUPP) {
                g_scan_state.store(-1, std::memory_order_relaxed);
            }
            return false;
        }
        g_scan_state.store(1, std::memory_order_relaxed);
        for (long i = 0; i < n; ++i) {
            const PageRegion& r = vec[static_cast<size_t>(i)];
            // Linux 6.18 can report walk_end short of a completed scan; a resumed scan then
            // repeats regions. Keep only what lies past what we already have.
            uint64_t s = r.start;
            if (!out.empty() && s < out.back().end) s = out.back().end;
            if (s >= r.end) continue;
            if (!out.empty() && out.back().end == s && out.back().categories == r.categories) {
                out.back().end = r.end;
            } else {
                out.push_back(PageRun{s, r.end, r.categories});
            }
        }
        if (static_cast<uint64_t>(n) < arg.vec_len) break;  // the whole range was walked
        uint64_t next = out.empty() ? arg.walk_end : std::max(arg.walk_end, out.back().end);
        if (next <= cursor) break;
        cursor = next;
    }
    return true;
}

bool PagemapReader::scan_supported() {
    return g_scan_state.load(std::memory_order_relaxed) >= 0;
}

bool pfns_visible() {
    // Fault in one page of our own and look for its frame number.
    void* p = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    *static_cast<volatile char*>(p) = 1;
    bool visible = false;
    int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        uint64_t e = 0;
        off_t off = static_cast<off_t>(reinterpret_cast<uint64_t>(p) / kPageSize * sizeof e);
        visible = pread(fd, &e, sizeof e, off) == sizeof e && pfn(e) != 0;
        ::close(fd);
    }
    munmap(p, kPageSize);
    return visible;
}

}  // namespace cowtrace::pagemap

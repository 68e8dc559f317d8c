#include "page_fault_sampler.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

#include "core/thread_group.hpp"

namespace cowtrace::collector {
namespace {

// AX..IP (bits 0-8) and R8..R15 (bits 16-23): DWARF registers 0-16. The segment registers would
// be refused (research §2).
constexpr uint64_t kRegisterMask = 0xff01ffull;

// Locked memory for the rings of all CPUs together (an unprivileged user's budget is
// perf_event_mlock_kb per CPU plus RLIMIT_MEMLOCK; the rings shrink when refused).
constexpr size_t kRingBudgetBytes = 16u << 20;

int perf_event_open(perf_event_attr& attr, pid_t pid, int cpu, int group, unsigned long flags) {
    return static_cast<int>(syscall(SYS_perf_event_open, &attr, pid, cpu, group, flags));
}

std::vector<int> online_cpus() {
    std::vector<int> cpus;
    std::ifstream in("/sys/devices/system/cpu/online");
    std::string text;
    if (in && std::getline(in, text)) {
        // "0-3,5,7-8"
        size_t i = 0;
        while (i < text.size()) {
            char* end = nullptr;
            long a = strtol(text.c_str() + i, &end, 10);
            long b = a;
            if (*end == '-') b = strtol(end + 1, &end, 10);
            for (long c = a; c <= b && c >= 0 && c < 4096; ++c) cpus.push_back(static_cast<int>(c));
            i = static_cast<size_t>(end - text.c_str());
            if (i < text.size() && text[i] == ',')
                ++i;
            else
                break;
        }
    }
    if (cpus.empty()) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        for (long c = 0; c < n; ++c) cpus.push_back(static_cast<int>(c));
    }
    return cpus;
}

std::string paranoid_level() {
    std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
    std::string level;
    if (in) in >> level;
    return level.empty() ? "?" : level;
}

template <class T>
T read_at(const uint8_t*& p) {
    T v;
    memcpy(&v, p, sizeof v);
    p += sizeof v;
    return v;
}

}  // namespace

PageFaultSampler::~PageFaultSampler() {
    for (auto& [pid, process] : processes_)
        for (int fd : process.fds) close(fd);
    if (key_holder_fd_ >= 0) close(key_holder_fd_);
    for (auto& ring : rings_) {
        if (ring.base != nullptr) munmap(ring.base, ring.size + static_cast<size_t>(getpagesize()));
        if (ring.fd >= 0) close(ring.fd);
    }
}

bool PageFaultSampler::open(const Options& options, std::string& error) {
    options_ = options;
    options_.stack_bytes = std::min<uint32_t>(options_.stack_bytes & ~7u, 65528);
    size_t page = static_cast<size_t>(getpagesize());
    std::vector<int> cpus = online_cpus();
    // Up to kRingBudgetBytes of rings in all (a burst of copies writes megabytes a second of
    // stack copies), as a power of two per CPU within [8 pages, options.ring_pages].
    uint32_t per_cpu = 8;
    while (per_cpu * 2 <= options_.ring_pages &&
           (per_cpu * 2) * page * cpus.size() <= kRingBudgetBytes)
        per_cpu *= 2;
    options_.ring_pages = per_cpu;
    for (int cpu : cpus) {
        // The ring's owner: an event of ours that never fires, with the clock the samples use
        // (the kernel redirects only between events of one clock).
        perf_event_attr attr{};
        attr.size = sizeof attr;
        attr.type = PERF_TYPE_SOFTWARE;
        attr.config = PERF_COUNT_SW_DUMMY;
        attr.exclude_kernel = 1;
        attr.exclude_hv = 1;
        attr.use_clockid = 1;
        attr.clockid = CLOCK_MONOTONIC;
        // Wake the reader once 32 KiB wait (a few samples), not at every one.
        attr.watermark = 1;
        attr.wakeup_watermark = 32 * 1024;
        int fd = perf_event_open(attr, 0, cpu, -1, PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == EACCES || e == EPERM) {
                error =
                    "perf_event_open is refused (kernel.perf_event_paranoid=" + paranoid_level() +
                    "): lower it to 2 (sysctl kernel.perf_event_paranoid=2) or run as root "
                    "or with CAP_PERFMON";
            } else if (e == ENOSYS || e == ENOENT || e == ENODEV) {
                error =
                    "this kernel has no perf events (perf_event_open: " + std::string(strerror(e)) +
                    ")";
            } else {
                error = "perf_event_open: " + std::string(strerror(e));
            }
            return false;
        }
        Ring ring;
        ring.fd = fd;
        ring.cpu = cpu;
        // The locked-memory budget is per user (perf_event_mlock_kb per CPU, then
        // RLIMIT_MEMLOCK): take less rather than nothing.
        for (uint32_t pages = options_.ring_pages; pages >= 8; pages /= 2) {
            void* base =
                mmap(nullptr, (pages + 1) * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (base != MAP_FAILED) {
                ring.base = base;
                ring.size = pages * page;
                break;
            }
        }
        if (ring.base == nullptr) {
            error =
                "no locked memory left for perf sample buffers (perf_event_mlock_kb, "
                "RLIMIT_MEMLOCK): " +
                std::string(strerror(errno));
            close(fd);
            return false;
        }
        rings_.push_back(ring);
    }
    hold_page_fault_key();
    return !rings_.empty();
}

void PageFaultSampler::hold_page_fault_key() {
    if (key_holder_fd_ >= 0) return;
    // The kernel counts its page-fault software events in a static key: the first such event
    // opened and the last closed patch the kernel's text (text_poke and an IPI to every CPU,
    // stalling the traced program too). One event of ours, never enabled, keeps the count above
    // zero, so opening and closing a short-lived process's events only moves the count.
    // Without it sampling still works; it just costs more per process.
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_PAGE_FAULTS;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    key_holder_fd_ = perf_event_open(attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

int PageFaultSampler::open_event(pid_t tid, int cpu, std::string& error) {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_PAGE_FAULTS;
    // No PERF_SAMPLE_PERIOD: with it a fixed-period software event samples every fault
    // (research §2); each sample stands for `period` faults.
    attr.sample_period = options_.period;
    attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR |
                       PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
    attr.sample_regs_user = kRegisterMask;
    attr.sample_stack_user = options_.stack_bytes;
    attr.read_format = read_lost_ ? PERF_FORMAT_LOST : 0;
    attr.inherit = 1;
    attr.exclude_kernel = 1;  // required unprivileged; copies made inside syscalls are not seen
    attr.exclude_hv = 1;
    attr.exclude_callchain_kernel = 1;
    attr.use_clockid = 1;
    attr.clockid = CLOCK_MONOTONIC;
    int fd = perf_event_open(attr, tid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ESRCH) {
            error = "the process is gone";
        } else if (e == EACCES || e == EPERM) {
            error = "perf_event_open on pid " + std::to_string(tid) +
                    " is refused (another user's process, or not dumpable: set-id programs, "
                    "PR_SET_DUMPABLE 0)";
        } else {
            error = "perf_event_open on pid " + std::to_string(tid) + ": " + strerror(e);
        }
    }
    return fd;
}

bool PageFaultSampler::add_process(pid_t pid, std::string& error) {
    if (rings_.empty()) {
        error = "page-fault sampling is not open";
        return false;
    }
    if (processes_.count(pid)) return true;
    Process process;
    // Opens tid's events, one per CPU; false (and everything closed) on an error other than
    // the thread having ended.
    auto open_thread = [&](pid_t tid) {
        for (const Ring& ring : rings_) {
            int fd = open_event(tid, ring.cpu, error);
            if (fd < 0 && errno == EINVAL && read_lost_) {
                // Before Linux 6.0 there is no PERF_FORMAT_LOST: go without the exact count.
                read_lost_ = false;
                fd = open_event(tid, ring.cpu, error);
            }
            if (fd < 0) {
                if (errno == ESRCH) return true;  // that thread ended: the others still count
                for (int f : process.fds) close(f);
                return false;
            }
            if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, ring.fd) != 0) {
                error = "perf: cannot share the sample ring: " + std::string(strerror(errno));
                close(fd);
                for (int f : process.fds) close(f);
                return false;
            }
            process.fds.push_back(fd);
        }
        return true;
    };
    // The main thread first: every thread it starts from then on inherits its events, so for a
    // single-threaded process (most) one listing of its threads finds nothing new.
    std::set<pid_t> done{pid};
    if (!open_thread(pid)) return false;
    // A thread started between listing and opening is followed only if its creator already had
    // events (inherit): list again until nothing new turns up.
    for (int pass = 0; pass < 4; ++pass) {
        bool found_new = false;
        for (pid_t tid : thread_ids(pid)) {
            if (!done.insert(tid).second) continue;
            found_new = true;
            if (!open_thread(tid)) return false;
        }
        if (!found_new) break;
    }
    if (process.fds.empty()) {
        error = "the process is gone";
        return false;
    }
    processes_[pid] = std::move(process);
    return true;
}

PageFaultSampler::Counts PageFaultSampler::counts(pid_t pid) const {
    Counts counts;
    auto it = processes_.find(pid);
    if (it == processes_.end()) return counts;
    for (int fd : it->second.fds) {
        uint64_t values[2] = {0, 0};
        ssize_t n = read(fd, values, read_lost_ ? sizeof values : sizeof values[0]);
        if (n >= static_cast<ssize_t>(sizeof values[0])) counts.faults += values[0];
        if (read_lost_ && n == static_cast<ssize_t>(sizeof values)) counts.lost += values[1];
    }
    return counts;
}

void PageFaultSampler::remove_process(pid_t pid) {
    auto it = processes_.find(pid);
    if (it == processes_.end()) return;
    for (int fd : it->second.fds) close(fd);
    processes_.erase(it);
}

void PageFaultSampler::set_period(uint64_t period) {
    if (period == 0 || period == options_.period) return;
    options_.period = period;
    for (auto& [pid, process] : processes_)
        for (int fd : process.fds) ioctl(fd, PERF_EVENT_IOC_PERIOD, &period);
}

std::vector<int> PageFaultSampler::ring_fds() const {
    std::vector<int> fds;
    for (const Ring& ring : rings_) fds.push_back(ring.fd);
    return fds;
}

void PageFaultSampler::drain(const std::function<void(const FaultSample&)>& on_sample) {
    for (Ring& ring : rings_) drain_ring(ring, on_sample);
}

void PageFaultSampler::drain_ring(Ring& ring,
                                  const std::function<void(const FaultSample&)>& on_sample) {
    auto* meta = static_cast<perf_event_mmap_page*>(ring.base);
    const uint8_t* data = static_cast<const uint8_t*>(ring.base) + getpagesize();
    uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = meta->data_tail;
    while (tail + sizeof(perf_event_header) <= head) {
        perf_event_header header;
        size_t at = tail % ring.size;
        // The header itself may wrap.
        for (size_t i = 0; i < sizeof header; ++i)
            reinterpret_cast<uint8_t*>(&header)[i] = data[(at + i) % ring.size];
        if (header.size < sizeof header || tail + header.size > head) break;
        const uint8_t* record = data + at;
        if (at + header.size > ring.size) {
            record_.resize(header.size);
            size_t first = ring.size - at;
            memcpy(record_.data(), data + at, first);
            memcpy(record_.data() + first, data, header.size - first);
            record = record_.data();
        }
        if (header.type == PERF_RECORD_SAMPLE) {
            FaultSample sample;
            if (parse_sample(record + sizeof header, header.size - sizeof header, sample))
                on_sample(sample);
        }
        tail += header.size;
        // Each record's room goes back to the kernel as soon as it is read (unwinding takes
        // microseconds a sample; a burst of copies fills a ring in milliseconds).
        __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
        head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    }
}

bool PageFaultSampler::parse_sample(const uint8_t* p, size_t size, FaultSample& out) const {
    const uint8_t* end = p + size;
    // IP, TID (pid, tid), TIME, ADDR: 32 bytes; then REGS_USER (abi, regs), STACK_USER.
    if (size < 40) return false;
    out.ip = read_at<uint64_t>(p);
    out.pid = static_cast<pid_t>(read_at<uint32_t>(p));
    out.tid = static_cast<pid_t>(read_at<uint32_t>(p));
    out.t_ns = read_at<uint64_t>(p);
    out.address = read_at<uint64_t>(p);
    uint64_t abi = read_at<uint64_t>(p);
    if (abi != 0) {
        if (end - p < static_cast<ptrdiff_t>(8 * kSampledRegisters)) return false;
        for (auto& r : out.registers) r = read_at<uint64_t>(p);
        out.has_registers = true;
    }
    if (end - p < 8) return true;
    uint64_t stack_size = read_at<uint64_t>(p);
    if (stack_size == 0) return true;
    if (static_cast<uint64_t>(end - p) < stack_size + 8) return false;
    const uint8_t* stack = p;
    p += stack_size;
    uint64_t dyn_size = read_at<uint64_t>(p);
    out.stack = stack;
    out.stack_size = static_cast<size_t>(std::min(dyn_size, stack_size));
    return true;
}

}  // namespace cowtrace::collector

// Samples the user-space page faults of chosen processes with perf_event_open: for each sample,
// the faulting address, the thread, the time, the user registers and a copy of the top of the
// user stack (unwound later, in the collector: /work/shared/research/attribution.md §4).
//
// Layout (research §1.3): one software page-fault event per (thread, online CPU) with inherit,
// so threads and children started later are followed; each CPU's events write into one ring,
// owned by a dummy event on the collector itself so that rings outlive the processes sampled.
// Nothing is written to the sampled processes; the kernel copies the samples.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cowtrace::collector {

// The user registers a sample carries, in the kernel's x86_64 perf order (AX BX CX DX SI DI BP SP
// IP, then R8-R15).
inline constexpr size_t kSampledRegisters = 17;

struct FaultSample {
    pid_t pid = 0;
    pid_t tid = 0;
    uint64_t t_ns = 0;  // CLOCK_MONOTONIC
    uint64_t address = 0;
    uint64_t ip = 0;
    bool has_registers = false;
    uint64_t registers[kSampledRegisters] = {};
    const uint8_t* stack = nullptr;  // the stack copy, from the sampled stack pointer up
    size_t stack_size = 0;
};

class PageFaultSampler {
public:
    struct Options {
        uint64_t period = 61;         // one sample every this many faults
        uint32_t stack_bytes = 8192;  // of user stack copied per sample (multiple of 8, < 64 KiB)
        // per CPU, at most (a power of two; fewer on many CPUs, halved while the kernel refuses)
        uint32_t ring_pages = 512;
    };

    PageFaultSampler() = default;
    ~PageFaultSampler();
    PageFaultSampler(const PageFaultSampler&) = delete;
    PageFaultSampler& operator=(const PageFaultSampler&) = delete;

    // Creates the rings; false with a one-line reason (perf_event_paranoid, no perf events, the
    // locked-memory budget) when sampling is not possible here.
    bool open(const Options& options, std::string& error);
    // Starts sampling pid's threads (and what they start later). False with a reason: the
    // process is gone, not dumpable, another user's.
    bool add_process(pid_t pid, std::string& error);
    // Stops sampling pid. Its counts (faults seen, samples lost) are added to the totals first.
    void remove_process(pid_t pid);
    bool sampling(pid_t pid) const { return processes_.count(pid) != 0; }
    // Whether an idle event of ours keeps the kernel's page-fault event key enabled (open()).
    bool holds_page_fault_key() const { return key_holder_fd_ >= 0; }

    // Changes the period of every event (adaptive sampling).
    void set_period(uint64_t period);
    uint64_t period() const { return options_.period; }

    // Descriptors that become readable when a ring has data (for epoll).
    std::vector<int> ring_fds() const;
    // Calls on_sample for every sample waiting in the rings (the sample's stack points into a
    // buffer valid during the call only).
    void drain(const std::function<void(const FaultSample&)>& on_sample);

    // What the kernel counted for pid's events so far: faults and samples it could not write.
    struct Counts {
        uint64_t faults = 0;
        uint64_t lost = 0;
    };
    Counts counts(pid_t pid) const;

private:
    struct Ring {
        int fd = -1;  // the dummy event owning the ring
        int cpu = 0;
        void* base = nullptr;
        size_t size = 0;  // data area, bytes
    };
    struct Process {
        std::vector<int> fds;
    };
    void drain_ring(Ring& ring, const std::function<void(const FaultSample&)>& on_sample);
    bool parse_sample(const uint8_t* data, size_t size, FaultSample& out) const;
    int open_event(pid_t tid, int cpu, std::string& error);
    void hold_page_fault_key();

    Options options_;
    std::vector<Ring> rings_;
    std::map<pid_t, Process> processes_;
    std::vector<uint8_t> record_;  // a record that wrapped around the ring's end
    bool read_lost_ = true;        // PERF_FORMAT_LOST (Linux 6.0)
    int key_holder_fd_ = -1;       // keeps the kernel's page-fault event key enabled (open())
};

}  // namespace cowtrace::collector

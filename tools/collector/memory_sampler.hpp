// Memory samples (`smaps_rollup`) of every live traced process, on a thread of their own. A
// rollup walks the process's page tables: for a 16 GiB process it takes about as long as a
// census (0.3–0.5 s), and on the census thread it held up the copy-on-write timeline's ticks by
// as much (issue 11). Here it delays only the next memory sample.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace cowtrace::collector {

// One MemorySample record of pid from its smaps_rollup, stamped t_ns; empty when it is gone.
std::vector<uint8_t> memory_sample_record(pid_t pid, uint64_t t_ns);

class MemorySampler {
public:
    // Encoded MemorySample records, handed over as each pass ends (from the sampler's thread).
    using Deliver = std::function<void(std::vector<std::vector<uint8_t>> records)>;

    // share: of one core, for the rollups; interval_ns: the sampling interval (the first pass's
    // budget).
    MemorySampler(double share, uint64_t interval_ns, Deliver deliver);
    ~MemorySampler();  // finish()
    MemorySampler(const MemorySampler&) = delete;
    MemorySampler& operator=(const MemorySampler&) = delete;

    void start();
    // A sampling tick at t_ns (CLOCK_MONOTONIC) over these processes. While a pass is under way
    // the latest tick waits for it; older ones are dropped (a slow pass does not pile up).
    void on_tick(uint64_t t_ns, std::vector<pid_t> live);
    // Reads taken elsewhere (the census thread's, beside a final census) paid from the credit:
    // the round-robin waits for them.
    void charge(uint64_t cpu_ns) { charged_ns_ += cpu_ns; }
    // Stops the thread; the pass under way ends at its current process.
    void finish();

private:
    void run();
    // Rollups of the live processes as far as the credit reaches, starting where the last pass
    // stopped, so that a large process is sampled less often rather than none at all.
    void pass(uint64_t t_ns, const std::vector<pid_t>& live,
              std::vector<std::vector<uint8_t>>& out);

    double share_;
    uint64_t interval_ns_;
    Deliver deliver_;

    std::mutex mutex_;
    std::condition_variable wake_;
    bool tick_waiting_ = false;
    uint64_t tick_t_ns_ = 0;
    std::vector<pid_t> tick_live_;
    std::atomic<bool> stopping_{false};
    std::atomic<uint64_t> charged_ns_{0};
    std::thread worker_;

    // Worker-only state. The credit is ns of CPU (a rollup's cost is known only once read, so
    // it may run negative); each process's last cost says whether the credit affords it now.
    uint64_t last_tick_ns_ = 0;
    int64_t credit_ns_ = 0;
    int64_t cost_max_ns_ = 0;
    std::unordered_map<pid_t, uint64_t> cost_ns_;
    size_t cursor_ = 0;
};

}  // namespace cowtrace::collector

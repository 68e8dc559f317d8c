#include "memory_sampler.hpp"

#include <pthread.h>
#include <time.h>

#include <algorithm>

#include "core/smaps_rollup.hpp"
#include "record_buffer.hpp"
#include "wire/collector_records.hpp"

namespace cowtrace::collector {

namespace {

uint64_t clock_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

std::vector<uint8_t> memory_sample_record(pid_t pid, uint64_t t_ns) {
    MemoryRollup m;
    if (!read_smaps_rollup(pid, m)) return {};
    wire::MemorySample sample;
    sample.rss_bytes = m.rss_bytes;
    sample.pss_bytes = m.pss_bytes;
    sample.private_dirty_bytes = m.private_dirty_bytes;
    sample.shared_dirty_bytes = m.shared_dirty_bytes;
    sample.anonymous_bytes = m.anonymous_bytes;
    sample.swap_bytes = m.swap_bytes;
    return encode_record_buffer(sample, pid, t_ns, 128);
}

MemorySampler::MemorySampler(double share, uint64_t interval_ns, Deliver deliver)
    : share_(share), interval_ns_(interval_ns), deliver_(std::move(deliver)) {}

MemorySampler::~MemorySampler() {
    finish();
}

void MemorySampler::start() {
    if (worker_.joinable()) return;
    worker_ = std::thread([this] { run(); });
    pthread_setname_np(worker_.native_handle(), "cowtrace-memory");
}

void MemorySampler::on_tick(uint64_t t_ns, std::vector<pid_t> live) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        tick_waiting_ = true;
        tick_t_ns_ = t_ns;
        tick_live_ = std::move(live);
    }
    wake_.notify_one();
}

void MemorySampler::finish() {
    if (!worker_.joinable()) return;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    worker_.join();
}

void MemorySampler::run() {
    for (;;) {
        uint64_t t_ns;
        std::vector<pid_t> live;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [this] { return tick_waiting_ || stopping_; });
            if (stopping_) return;
            tick_waiting_ = false;
            t_ns = tick_t_ns_;
            live = std::move(tick_live_);
        }
        std::vector<std::vector<uint8_t>> out;
        pass(t_ns, live, out);
        if (!out.empty()) deliver_(std::move(out));
    }
}

void MemorySampler::pass(uint64_t t_ns, const std::vector<pid_t>& live,
                         std::vector<std::vector<uint8_t>>& out) {
    if (live.empty()) return;
    // The budget: share of a core since the last pass, saved up to the costliest read.
    uint64_t elapsed = !last_tick_ns_         ? interval_ns_
                       : t_ns > last_tick_ns_ ? t_ns - last_tick_ns_
                                              : 0;
    last_tick_ns_ = t_ns;
    auto budget = static_cast<int64_t>(share_ * static_cast<double>(elapsed));
    credit_ns_ = std::min(credit_ns_ + budget, std::max<int64_t>(4 * budget, cost_max_ns_));
    credit_ns_ -= static_cast<int64_t>(charged_ns_.exchange(0));
    // Forget the costs of processes that ended (pids are few next to the live list's size).
    if (cost_ns_.size() > 2 * live.size() + 64) {
        std::unordered_map<pid_t, uint64_t> kept;
        for (pid_t pid : live)
            if (auto it = cost_ns_.find(pid); it != cost_ns_.end()) kept.insert(*it);
        cost_ns_ = std::move(kept);
    }
    size_t start = cursor_ % live.size();
    for (size_t k = 0; k < live.size() && !stopping_; ++k) {
        pid_t pid = live[(start + k) % live.size()];
        uint64_t& cost = cost_ns_[pid];
        if (static_cast<int64_t>(cost) > credit_ns_) {
            cursor_ = start + k;  // its turn comes first next time
            return;
        }
        uint64_t before = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        // Stamped when its read began: a 16 GiB process's takes a good part of a second.
        std::vector<uint8_t> record = memory_sample_record(pid, clock_ns(CLOCK_MONOTONIC));
        cost = clock_ns(CLOCK_THREAD_CPUTIME_ID) - before;
        cost_max_ns_ = std::max(cost_max_ns_, static_cast<int64_t>(cost));
        credit_ns_ -= static_cast<int64_t>(cost);
        if (record.empty()) {
            cost_ns_.erase(pid);
        } else {
            out.push_back(std::move(record));
        }
    }
    cursor_ = start;
}

}  // namespace cowtrace::collector

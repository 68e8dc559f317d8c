// The memory sampler's thread: a tick reads the live processes' smaps_rollup and hands the
// records over; a process whose last read the share cannot afford waits for its credit; a gone
// process yields nothing.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <vector>

#include "collector/memory_sampler.hpp"
#include "trace/trace_reader.hpp"
#include "wire/collector_records.hpp"

namespace cowtrace::collector {
namespace {

constexpr uint64_t kInterval = 100'000'000;

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// What the sampler delivered, counted by pass.
class Delivered {
public:
    MemorySampler::Deliver sink() {
        return [this](std::vector<std::vector<uint8_t>> records) {
            std::lock_guard<std::mutex> lock(mutex_);
            for (auto& r : records) records_.push_back(std::move(r));
            ++deliveries_;
            changed_.notify_all();
        };
    }
    // Waits (up to 10 s) for n deliveries.
    bool wait_for(int n) {
        std::unique_lock<std::mutex> lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return deliveries_ >= n; });
    }
    std::vector<std::vector<uint8_t>> records() {
        std::lock_guard<std::mutex> lock(mutex_);
        return records_;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::vector<uint8_t>> records_;
    int deliveries_ = 0;
};

RawRecord raw(const std::vector<uint8_t>& buffer) {
    RawRecord rec;
    EXPECT_GE(buffer.size(), sizeof(wire::RecordHeader));
    std::memcpy(&rec.header, buffer.data(), sizeof rec.header);
    rec.payload = {buffer.data() + sizeof rec.header, buffer.size() - sizeof rec.header};
    return rec;
}

TEST(MemorySampler, ATickReadsEachLiveProcessOnceStampedWhenRead) {
    Delivered delivered;
    MemorySampler sampler(0.5, kInterval, delivered.sink());
    sampler.start();
    uint64_t tick = now_ns();
    sampler.on_tick(tick, {getpid()});
    ASSERT_TRUE(delivered.wait_for(1));
    sampler.finish();
    auto records = delivered.records();
    ASSERT_EQ(records.size(), 1u);
    RawRecord rec = raw(records[0]);
    EXPECT_EQ(rec.header.type, static_cast<uint16_t>(wire::RecordType::kMemorySample));
    EXPECT_EQ(rec.header.pid, getpid());
    EXPECT_GE(rec.header.t_ns, tick);
    EXPECT_LE(rec.header.t_ns, now_ns());
    wire::MemorySample sample;
    ASSERT_TRUE(decode(rec, sample));
    EXPECT_GT(sample.rss_bytes, 0u);
    EXPECT_GT(sample.pss_bytes, 0u);
    EXPECT_GT(sample.anonymous_bytes, 0u);
}

TEST(MemorySampler, AGoneProcessYieldsNothing) {
    pid_t child = fork();
    if (child == 0) _exit(0);
    ASSERT_GT(child, 0);
    ASSERT_EQ(waitpid(child, nullptr, 0), child);
    Delivered delivered;
    MemorySampler sampler(0.5, kInterval, delivered.sink());
    sampler.start();
    sampler.on_tick(now_ns(), {child, getpid()});
    ASSERT_TRUE(delivered.wait_for(1));
    sampler.finish();
    auto records = delivered.records();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(raw(records[0]).header.pid, getpid());
}

TEST(MemorySampler, AReadTheShareCannotAffordWaits) {
    // A share so small that no tick's credit pays for a read: the first read (its cost unknown)
    // is taken, the next waits, however many ticks come.
    Delivered delivered;
    MemorySampler sampler(1e-9, kInterval, delivered.sink());
    sampler.start();
    uint64_t t = now_ns();
    sampler.on_tick(t, {getpid()});
    ASSERT_TRUE(delivered.wait_for(1));
    for (int i = 1; i <= 5; ++i) {
        sampler.on_tick(t + i * kInterval, {getpid()});
        usleep(20'000);
    }
    sampler.finish();
    EXPECT_EQ(delivered.records().size(), 1u);
}

TEST(MemorySampler, AnAmpleShareReadsAtEveryTick) {
    Delivered delivered;
    MemorySampler sampler(1.0, kInterval, delivered.sink());
    sampler.start();
    uint64_t t = now_ns();
    for (int i = 0; i < 3; ++i) {
        sampler.on_tick(t + i * kInterval, {getpid()});
        ASSERT_TRUE(delivered.wait_for(i + 1));
    }
    sampler.finish();
    EXPECT_EQ(delivered.records().size(), 3u);
}

}  // namespace
}  // namespace cowtrace::collector

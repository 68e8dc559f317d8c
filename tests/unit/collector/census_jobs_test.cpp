// What the census thread makes of the jobs queued for it. The sampler's thread starts only once
// every job of a test is queued, as on a busy machine where the records come in one batch; a
// real child is forked so that its memory can be read.
//  - Queue order: a child whose exec attempt is already queued when its baseline would be read
//    is not read at all (what the read found could only be its next image's).
//  - Final census: the latest request decides whether the episode's final figures are a
//    census's or its last sample's (a child whose exec failed asks again before its real end).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "collector/cow_sampler.hpp"
#include "trace/trace_reader.hpp"
#include "trace/trace_writer.hpp"
#include "wire/collector_records.hpp"

namespace cowtrace::collector {
namespace {

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// A forked child that waits to be killed.
class SleepingChild {
public:
    SleepingChild() {
        pid_ = fork();
        if (pid_ == 0) {
            for (;;) pause();
        }
    }
    ~SleepingChild() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
};

// The records of one type about pid in the trace at path.
std::vector<RawRecord> records_of(TraceReader& reader, const std::string& path, pid_t pid,
                                  wire::RecordType type) {
    EXPECT_TRUE(reader.open(path)) << reader.error();
    std::vector<RawRecord> found;
    RawRecord rec;
    while (reader.next(rec)) {
        if (rec.header.type == static_cast<uint16_t>(type) && rec.header.pid == pid)
            found.push_back(rec);
    }
    return found;
}

int episode_starts_of(const std::string& path, pid_t pid) {
    TraceReader reader;
    return static_cast<int>(records_of(reader, path, pid, wire::RecordType::kEpisodeStart).size());
}

std::string trace_path(const char* name) {
    return ::testing::TempDir() + "/cowtrace-census-jobs-" + std::to_string(getpid()) + "-" + name +
           ".trace";
}

// Queues the child's baseline and, if asked, its exec attempt, then lets the sampler run.
int episode_starts_after(bool exec_queued) {
    std::string path = trace_path(exec_queued ? "exec" : "plain");
    SleepingChild child;
    EXPECT_GT(child.pid(), 0);
    {
        TraceWriter writer;
        std::string error;
        EXPECT_TRUE(writer.open(path, error)) << error;
        CowSampler sampler(
            writer, [](uint64_t, uint32_t) {}, CensusMode::kUnprivileged, 100'000'000, 0.02);
        ForkedChild forked;
        forked.child = child.pid();
        forked.parent = getpid();
        forked.t_ns = now_ns();
        sampler.on_forked_child(forked);
        if (exec_queued) sampler.on_exec_attempt(child.pid(), now_ns());
        sampler.start();
        sampler.finish(now_ns());
        EXPECT_TRUE(writer.close(error)) << error;
    }
    int starts = episode_starts_of(path, child.pid());
    unlink(path.c_str());
    return starts;
}

TEST(CensusQueue, ABaselineIsReadWhenNoExecWaits) {
    EXPECT_EQ(episode_starts_after(/*exec_queued=*/false), 1);
}

TEST(CensusQueue, ABaselineIsNotReadWhenTheChildsExecWaitsBehindIt) {
    EXPECT_EQ(episode_starts_after(/*exec_queued=*/true), 0);
}

CensusRequest final_request(pid_t child, uint64_t t_ns, wire::EpisodeEndReason reason) {
    CensusRequest r;
    r.child = child;
    r.parent = getpid();
    r.kind = wire::CensusKind::kFinal;
    r.reason = reason;
    r.t_ns = t_ns;
    return r;
}

TEST(FinalCensus, AFailedExecsSkippedCensusDoesNotMarkTheRealEnd) {
    std::string path = trace_path("failed-exec");
    SleepingChild child;
    ASSERT_GT(child.pid(), 0);
    {
        TraceWriter writer;
        std::string error;
        ASSERT_TRUE(writer.open(path, error)) << error;
        int acks = 0;
        CowSampler sampler(
            writer, [&acks](uint64_t, uint32_t) { ++acks; }, CensusMode::kUnprivileged, 100'000'000,
            0.02);
        uint64_t fork_t = now_ns();
        ForkedChild forked;
        forked.child = child.pid();
        forked.parent = getpid();
        forked.t_ns = fork_t;
        sampler.on_forked_child(forked);
        // Asked 1 ns into its life, before an exec: not worth the wait.
        sampler.on_request(final_request(child.pid(), fork_t + 1, wire::EpisodeEndReason::kExec));
        sampler.start();
        // As the library does: the exec comes once the census was answered.
        for (int i = 0; i < 5000 && acks == 0; ++i) {
            sampler.collect_results();
            usleep(1000);
        }
        ASSERT_EQ(acks, 1);
        sampler.on_exec_attempt(child.pid(), fork_t + 50'000'000'000ull);
        sampler.on_exec_failed(child.pid());
        // Its real end, 100 s into its life: worth it.
        sampler.on_request(
            final_request(child.pid(), fork_t + 100'000'000'000ull, wire::EpisodeEndReason::kExit));
        sampler.finish(now_ns());
        ASSERT_TRUE(writer.close(error)) << error;
    }
    TraceReader reader;
    auto ends = records_of(reader, path, child.pid(), wire::RecordType::kEpisodeEnd);
    unlink(path.c_str());
    ASSERT_EQ(ends.size(), 1u);
    wire::EpisodeEnd end;
    ASSERT_TRUE(decode(ends[0], end));
    EXPECT_EQ(end.reason, wire::EpisodeEndReason::kExit);
    EXPECT_FALSE(end.final_from_last_sample);
}

}  // namespace
}  // namespace cowtrace::collector

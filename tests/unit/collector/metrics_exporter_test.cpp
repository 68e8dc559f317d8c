// The metrics exporter reads the records the trace gets: episodes and what they copied per
// program, live episodes by pid until they end, the tree's PSS, processes, losses; labels stay
// bounded; the textfile is replaced whole.
#include "collector/metrics_exporter.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "trace_builder.hpp"

namespace cowtrace::collector {
namespace {

using testing::TraceBuilder;

constexpr pid_t kServer = 101;
constexpr uint64_t kMiB = 1 << 20;

// Feeds every record of b to the exporter, as the trace writer does.
void feed(MetricsExporter& m, const TraceBuilder& b) {
    for (const RawRecord& r : b.records()) {
        std::vector<uint8_t> bytes(sizeof r.header + r.payload.size());
        memcpy(bytes.data(), &r.header, sizeof r.header);
        memcpy(bytes.data() + sizeof r.header, r.payload.data(), r.payload.size());
        m.on_record(bytes.data(), bytes.size());
    }
}

// The value of one sample line of the exposition ("name{labels} value"), or -1.
double value_of(const std::string& exposition, const std::string& series) {
    std::istringstream in(exposition);
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, series.size() + 1, series + " ") == 0)
            return std::stod(line.substr(series.size() + 1));
    }
    return -1;
}

TraceBuilder server_forks(pid_t child, uint64_t shared, uint64_t copied_peak,
                          uint64_t copied_final) {
    TraceBuilder b;
    b.hello(kServer, 1000, 1, "/usr/bin/redis-server", {"redis-server", "*:6379"})
        .child_start(child, 2000, wire::CreateHow::kFork, kServer)
        .episode_start(child, 2001, kServer, shared)
        .episode_sample(child, 3000, shared - copied_peak, copied_peak, 0, copied_peak)
        .episode_sample(child, 4000, shared - copied_final, copied_final, 0, copied_final);
    return b;
}

TEST(MetricsExporter, AnEndedEpisodeIsObservedWithItsPeakUnderTheProgramThatForked) {
    MetricsExporter m({});
    m.on_process_started(kServer);
    m.on_process_started(200);
    TraceBuilder b = server_forks(200, 64 * kMiB, 24 * kMiB, 20 * kMiB);
    b.episode_end(200, 5000, wire::EpisodeEndReason::kExit);
    feed(m, b);
    std::string text = m.exposition();
    EXPECT_EQ(value_of(text, "cowtrace_fork_episodes_total{program=\"redis-server\"}"), 1) << text;
    EXPECT_EQ(value_of(text, "cowtrace_fork_copied_bytes_count{program=\"redis-server\"}"), 1);
    EXPECT_EQ(value_of(text, "cowtrace_fork_copied_bytes_sum{program=\"redis-server\"}"),
              24.0 * kMiB);
    EXPECT_EQ(value_of(text, "cowtrace_fork_copied_ratio_sum{program=\"redis-server\"}"), 0.375);
    EXPECT_EQ(
        value_of(text,
                 "cowtrace_fork_copied_bytes_bucket{program=\"redis-server\",le=\"16777216\"}"),
        0);
    EXPECT_EQ(
        value_of(text,
                 "cowtrace_fork_copied_bytes_bucket{program=\"redis-server\",le=\"67108864\"}"),
        1);
    EXPECT_EQ(text.find("cowtrace_fork_episode_copied_bytes{"), std::string::npos)
        << "an ended episode's gauges are gone";
    EXPECT_EQ(value_of(text, "cowtrace_fork_episodes_live"), 0);
}

// As in the report, the peak is the largest counted figure: an estimate (a sample of pages,
// with its error bound) moves the live gauges but is not the episode's peak.
TEST(MetricsExporter, AnEstimatedSampleIsNotThePeak) {
    MetricsExporter m({});
    m.on_process_started(kServer);
    m.on_process_started(200);
    TraceBuilder b;
    b.hello(kServer, 1000, 1, "/usr/bin/redis-server", {"redis-server", "*:6379"})
        .child_start(200, 2000, wire::CreateHow::kFork, kServer)
        .episode_start(200, 2001, kServer, 64 * kMiB)
        .episode_sample(200, 3000, 54 * kMiB, 10 * kMiB, 0, 10 * kMiB);
    wire::EpisodeSample estimate;
    estimate.shared_bytes = 50 * kMiB;
    estimate.copied_bytes = 14 * kMiB;
    estimate.estimated = true;
    estimate.copied_error_bytes = 2 * kMiB;
    b.add(estimate, 200, 3500);
    b.episode_sample(200, 4000, 52 * kMiB, 12 * kMiB, 0, 12 * kMiB);
    feed(m, b);
    EXPECT_EQ(value_of(m.exposition(),
                       "cowtrace_fork_episode_copied_bytes{pid=\"200\",program=\"redis-server\"}"),
              12.0 * kMiB);
    TraceBuilder end;
    end.episode_end(200, 5000, wire::EpisodeEndReason::kExit);
    feed(m, end);
    EXPECT_EQ(value_of(m.exposition(), "cowtrace_fork_copied_bytes_sum{program=\"redis-server\"}"),
              12.0 * kMiB);
}

TEST(MetricsExporter, ALiveEpisodeHasGaugesLabelledWithItsPid) {
    MetricsExporter m({});
    feed(m, server_forks(200, 64 * kMiB, 24 * kMiB, 20 * kMiB));
    std::string text = m.exposition();
    EXPECT_EQ(
        value_of(text, "cowtrace_fork_episode_copied_bytes{pid=\"200\",program=\"redis-server\"}"),
        20.0 * kMiB)
        << text;
    EXPECT_EQ(
        value_of(text, "cowtrace_fork_episode_shared_bytes{pid=\"200\",program=\"redis-server\"}"),
        44.0 * kMiB);
    EXPECT_EQ(value_of(text, "cowtrace_fork_episodes_live"), 1);
    EXPECT_EQ(value_of(text, "cowtrace_fork_copied_bytes_count{program=\"redis-server\"}"), -1);
}

TEST(MetricsExporter, AShortLivedEpisodeIsCountedButNotObserved) {
    MetricsExporter m({});
    TraceBuilder b;
    b.hello(kServer, 1000, 1, "/usr/bin/redis-server", {"redis-server"})
        .child_start(200, 2000, wire::CreateHow::kFork, kServer)
        .episode_start(200, 2001, kServer, 64 * kMiB)
        .episode_end(200, 2100, wire::EpisodeEndReason::kShortLived);
    feed(m, b);
    std::string text = m.exposition();
    EXPECT_EQ(value_of(text, "cowtrace_fork_episodes_unmeasured_total{program=\"redis-server\"}"),
              1)
        << text;
    EXPECT_EQ(value_of(text, "cowtrace_census_samples_lost_total{reason=\"fork_too_short\"}"), 1);
    EXPECT_EQ(value_of(text, "cowtrace_fork_copied_bytes_count{program=\"redis-server\"}"), -1);
}

TEST(MetricsExporter, TreePssIsTheSumOfTheLiveProcessesLatestSamples) {
    MetricsExporter m({});
    m.on_process_started(kServer);
    m.on_process_started(200);
    TraceBuilder b;
    b.memory_sample(kServer, 1000, 100 * kMiB, 60 * kMiB)
        .memory_sample(200, 1100, 90 * kMiB, 40 * kMiB)
        .memory_sample(kServer, 1200, 100 * kMiB, 50 * kMiB);
    feed(m, b);
    EXPECT_EQ(value_of(m.exposition(), "cowtrace_tree_pss_bytes"), 90.0 * kMiB);
    m.on_process_ended(200);
    std::string text = m.exposition();
    EXPECT_EQ(value_of(text, "cowtrace_tree_pss_bytes"), 50.0 * kMiB);
    EXPECT_EQ(value_of(text, "cowtrace_processes_started_total"), 2);
    EXPECT_EQ(value_of(text, "cowtrace_processes_ended_total"), 1);
    EXPECT_EQ(value_of(text, "cowtrace_processes"), 1);
}

TEST(MetricsExporter, TreePssCountsAForksSharedPagesOnce) {
    // The server was sampled before it forked; its snapshot child after copying 20 MiB.
    MetricsExporter m({});
    m.on_process_started(kServer);
    m.on_process_started(200);
    TraceBuilder b;
    b.memory_sample(kServer, 1000, 66 * kMiB, 66 * kMiB)
        .child_start(200, 2000, wire::CreateHow::kFork, kServer)
        .episode_start(200, 2001, kServer, 64 * kMiB)
        .episode_sample(200, 3000, 44 * kMiB, 20 * kMiB, 0, 20 * kMiB)
        .memory_sample(200, 3100, 52 * kMiB, 42 * kMiB);
    feed(m, b);
    EXPECT_EQ(value_of(m.exposition(), "cowtrace_tree_pss_bytes"), (66.0 - 32 + 42) * kMiB)
        << "66 + 42 would count the shared pages one and a half times";
    // The child's exit event comes before its episode's end record: 22 MiB go back at once.
    m.on_process_ended(200);
    EXPECT_EQ(value_of(m.exposition(), "cowtrace_tree_pss_bytes"), (34.0 + 22) * kMiB);
    TraceBuilder end;
    end.episode_end(200, 5000, wire::EpisodeEndReason::kExit);
    feed(m, end);
    EXPECT_EQ(value_of(m.exposition(), "cowtrace_tree_pss_bytes"), (34.0 + 22) * kMiB)
        << "given back once";
}

TEST(MetricsExporter, LossesAreCountedFromTheSessionsRunningTotals) {
    MetricsExporter m({});
    m.on_counts({.library_records = 10, .rejected_records = 1, .dropped_records = 2});
    m.on_counts({.library_records = 15,
                 .rejected_records = 1,
                 .dropped_records = 5,
                 .kernel_events_lost = 3});
    std::string text = m.exposition();
    EXPECT_EQ(value_of(text, "cowtrace_library_records_total"), 15) << text;
    EXPECT_EQ(value_of(text, "cowtrace_records_lost_total{reason=\"rejected\"}"), 1);
    EXPECT_EQ(value_of(text, "cowtrace_records_lost_total{reason=\"dropped_by_library\"}"), 5);
    EXPECT_EQ(value_of(text, "cowtrace_records_lost_total{reason=\"kernel_events\"}"), 3);
}

TEST(MetricsExporter, ProgramLabelsAreBounded) {
    MetricsExporter m({});
    TraceBuilder b;
    for (pid_t i = 0; i < static_cast<pid_t>(MetricsExporter::kMaxPrograms) + 50; ++i) {
        pid_t parent = 1000 + 2 * i;
        std::string path = "/usr/bin/prog" + std::to_string(i);
        b.hello(parent, 10 * i, 1, path, {path})
            .child_start(parent + 1, 10 * i + 1, wire::CreateHow::kFork, parent)
            .episode_start(parent + 1, 10 * i + 2, parent, kMiB)
            .episode_end(parent + 1, 10 * i + 3, wire::EpisodeEndReason::kShortLived);
    }
    feed(m, b);
    std::string text = m.exposition();
    std::regex series("^cowtrace_fork_episodes_total\\{");
    size_t count = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) count += std::regex_search(line, series);
    EXPECT_EQ(count, MetricsExporter::kMaxPrograms + 1);
    EXPECT_EQ(value_of(text, "cowtrace_fork_episodes_total{program=\"other\"}"), 50);
}

TEST(MetricsExporter, TheTextfileIsReplacedWhole) {
    std::string dir = ::testing::TempDir();
    std::string path = dir + "/cowtrace-metrics-test.prom";
    MetricsOptions opt;
    opt.file = path;
    opt.file_interval_ns = 1'000'000'000;
    MetricsExporter m(opt);
    std::string error;
    ASSERT_TRUE(m.start(error)) << error;
    std::ifstream first(path);
    std::string text((std::istreambuf_iterator<char>(first)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("# TYPE cowtrace_tree_pss_bytes gauge"), std::string::npos) << text;
    m.on_process_started(kServer);
    m.tick(5'000'000'000);
    std::ifstream second(path);
    text.assign((std::istreambuf_iterator<char>(second)), std::istreambuf_iterator<char>());
    EXPECT_EQ(value_of(text, "cowtrace_processes_started_total"), 1) << text;
    EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0) << "no temporary file left behind";
    unlink(path.c_str());
}

TEST(MetricsExporter, AnAddressThatCannotBeBoundIsAnError) {
    MetricsOptions opt;
    opt.listen = "192.0.2.1:1";  // TEST-NET-1: not an address of this machine
    MetricsExporter m(opt);
    std::string error;
    EXPECT_FALSE(m.start(error));
    EXPECT_NE(error.find("cannot serve metrics on 192.0.2.1:1"), std::string::npos) << error;
}

}  // namespace
}  // namespace cowtrace::collector

#include "report/perfetto_report.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tree_fixture.hpp"

namespace cowtrace::report {
namespace {

using nlohmann::json;
using testing::kMiB;
using testing::kMs;
using testing::TreeFixture;

json events_of(const model::ProcessTree& tree) {
    std::ostringstream out;
    write_perfetto(tree, out);
    return json::parse(out.str()).at("traceEvents");
}

const json* span_of(const json& events, pid_t pid) {
    for (const auto& e : events) {
        if (e["ph"] == "X" && e["cat"] == "process" && e["pid"] == pid) return &e;
    }
    return nullptr;
}

TEST(PerfettoReport, ARunningProcessSpansToTheTraceEndAndSaysSo) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    f.child(root, 101, 500 * kMs, std::nullopt);
    json events = events_of(f.tree);
    const json* span = span_of(events, 101);
    ASSERT_NE(span, nullptr);
    EXPECT_DOUBLE_EQ(span->at("ts").get<double>(), 500'000.0);
    EXPECT_DOUBLE_EQ(span->at("ts").get<double>() + span->at("dur").get<double>(), 2'000'000.0);
    EXPECT_EQ(span->at("args").at("alive"), true);
    EXPECT_EQ(span->at("args").at("exit"), "still running");
}

TEST(PerfettoReport, FlowEndsInsideTheChildAndStartsInsideTheCallSliceEvenWhenTimesDisagree) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    // A damaged trace: the child seems to start before its parent.
    f.tree.processes[root].start_ns = 50 * kMs;
    f.child(root, 101, 10 * kMs, 10 * kMs);
    json events = events_of(f.tree);
    const json* child = span_of(events, 101);
    const json* parent = span_of(events, 100);
    ASSERT_TRUE(child && parent);
    const json *s = nullptr, *fl = nullptr, *call = nullptr;
    for (const auto& e : events) {
        if (e["ph"] == "s") s = &e;
        if (e["ph"] == "f") fl = &e;
        if (e["ph"] == "X" && e["cat"] == "create") call = &e;
    }
    ASSERT_TRUE(s && fl && call);
    EXPECT_GT(child->at("dur").get<double>(), 0);
    double fts = fl->at("ts"), sts = s->at("ts");
    EXPECT_GE(fts, child->at("ts").get<double>());
    EXPECT_LE(fts, child->at("ts").get<double>() + child->at("dur").get<double>());
    EXPECT_GE(sts, call->at("ts").get<double>());
    EXPECT_LE(sts, call->at("ts").get<double>() + call->at("dur").get<double>());
    EXPECT_GE(call->at("ts").get<double>(), parent->at("ts").get<double>());
    EXPECT_EQ(s->at("id"), fl->at("id"));
    EXPECT_TRUE(fl->at("id").is_number_integer());
}

TEST(PerfettoReport, EpisodeCountersStartAtTheForkAndDropToZeroAtItsEnd) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t c = f.child(root, 101, 100 * kMs, 900 * kMs);
    f.episode(c, 64 * kMiB, 24 * kMiB, 20 * kMiB);
    std::vector<json> cow;
    for (const auto& e : events_of(f.tree)) {
        if (e["ph"] == "C" && e["name"] == "copy-on-write") cow.push_back(e);
    }
    ASSERT_EQ(cow.size(), 4u);  // fork, two samples, end
    EXPECT_EQ(cow.front()["pid"], 101);
    EXPECT_EQ(cow.front()["args"]["shared_bytes"], 64 * kMiB);
    EXPECT_EQ(cow.front()["args"]["copied_bytes"], 0);
    EXPECT_EQ(cow[1]["args"]["copied_bytes"], 24 * kMiB);
    EXPECT_EQ(cow.back()["ts"], 900'000.0);
    EXPECT_EQ(cow.back()["args"]["copied_bytes"], 0);
}

TEST(PerfettoReport, FoldedSiblingsShareOneTrackWithALaneForEachOverlap) {
    TreeFixture f;
    size_t root = f.root(100, {"bash"});
    // 1000 children one after the other, then three at the same time.
    for (int k = 0; k < 1000; ++k) {
        uint64_t t = 10 * kMs + static_cast<uint64_t>(k) * kMs;
        f.episode(f.child(root, 1000 + k, t, t + kMs / 2), 2 * kMiB, 4096, 4096);
    }
    for (int k = 0; k < 3; ++k) f.child(root, 3000 + k, 1500 * kMs, 1600 * kMs);
    json events = events_of(f.tree);
    std::set<std::pair<int, int>> tracks;
    size_t spans = 0, names = 0, flows = 0;
    std::set<int> cow_pids;
    for (const auto& e : events) {
        if (e["ph"] == "X" && e["cat"] == "process" && e["args"]["pid"] != 100) {
            ++spans;
            tracks.insert({e["pid"].get<int>(), e["tid"].get<int>()});
        }
        if (e["ph"] == "M" && e["name"] == "process_name" && e["pid"] != testing::kCollector)
            ++names;
        if (e["ph"] == "f") ++flows;
        if (e["ph"] == "C" && e["name"] == "copy-on-write") cow_pids.insert(e["pid"].get<int>());
    }
    EXPECT_EQ(spans, 1003u);  // every process keeps its span…
    EXPECT_EQ(flows, 1003u);  // …and the arrow from its fork
    // …on the group's track: one lane for the loop, three for the three alive together.
    EXPECT_EQ(tracks, (std::set<std::pair<int, int>>{
                          {1000, 1000}, {3000, 3000}, {3000, 3001}, {3000, 3002}}));
    EXPECT_EQ(names, 3u);                      // bash and the two groups
    EXPECT_EQ(cow_pids, std::set<int>{1000});  // the loop's copies, summed on its track
}

TEST(PerfettoReport, CommandLinesThatAreNotUtf8DoNotBreakTheJson) {
    TreeFixture f;
    f.root(100, {"server", "\xff\xfe", "\"quoted\"\n"});
    EXPECT_NO_THROW(events_of(f.tree));
}

}  // namespace
}  // namespace cowtrace::report

// A rotated trace file begins with the processes still alive (ProcessCarried): a reader of that
// file alone knows each one's creator, image and start, and does not count the records it sent
// into the file before as lost.
#include <gtest/gtest.h>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using testing::built_tree;
using testing::kCollector;
using testing::only;
using testing::TraceBuilder;

constexpr pid_t kServer = 300;
constexpr pid_t kChild = 301;

// A file that began at t=5000 while the server (its own image) and a forked child of it ran.
TraceBuilder rotated_file() {
    std::vector<std::string> argv = {"redis-server", "*:6379"};
    // Started by a program the library did not see: it only said hello (how unknown).
    std::vector<const char*> ptrs = {argv[0].c_str(), argv[1].c_str(), nullptr};
    TraceBuilder b;
    wire::TraceStart start;  // as `cowtrace record` writes it: fork children measured from outside
    start.collector_pid = kCollector;
    start.census_mode = "exact";
    start.features = wire::kFeatureOutsideBaseline;
    b.add(start, kCollector, 5000);
    wire::ProcessCarried server;
    server.creator = 1;
    server.start_t_ns = 1000;
    server.library_loaded = true;
    server.execfn = "/usr/bin/redis-server";
    server.argv = wire::TextList::of_array(ptrs.data());
    b.add(server, kServer, 5000);
    std::vector<uint64_t> frames = {0x401000};
    wire::ProcessCarried child;
    child.creator = kServer;
    child.how = wire::CreateHow::kFork;
    child.start_t_ns = 4000;
    child.library_loaded = true;
    child.call_site = wire::U64List(frames.data(), frames.size());
    b.add(child, kChild, 5000);
    return b;
}

TEST(CarriedProcess, IsKnownByItsCreatorImageAndStart) {
    TraceBuilder b = rotated_file();
    b.next_seq_of(kChild, 17).exit(kChild, 6000, wire::ExitHow::kUnderscoreExit, 0);
    b.trace_end(kCollector, 7000, -1, {kServer});
    auto tree = built_tree(b);
    const model::Process& server = only(tree, kServer);
    const model::Process& child = only(tree, kChild);
    EXPECT_TRUE(server.carried_over);
    EXPECT_EQ(server.start_ns, 0u) << "began before this file";
    EXPECT_EQ(child.ppid, kServer);
    EXPECT_EQ(child.how, wire::CreateHow::kFork);
    EXPECT_TRUE(child.creation_seen_by_shim);
    EXPECT_EQ(child.call_site, std::vector<uint64_t>{0x401000});
    EXPECT_FALSE(server.creation_seen_by_shim) << "it only said hello, in the file before too";
    ASSERT_EQ(tree.execs_of(server).size(), 1u);
    EXPECT_EQ(tree.execs_of(server)[0].path, "/usr/bin/redis-server");
    EXPECT_EQ(server.argv, (std::vector<std::string>{"redis-server", "*:6379"}));
    auto flags = model::limitations_of(tree, child);
    EXPECT_NE(std::find(flags.begin(), flags.end(), model::Limitation::kCarriedOver), flags.end());
    EXPECT_EQ(std::find(flags.begin(), flags.end(), model::Limitation::kUntracedCreation),
              flags.end());
}

TEST(CarriedProcess, AForkChildCarriedOverIsNoShortLivedEpisode) {
    // Forked in the file before; its episode, if any, is carried by its EpisodeStart.
    TraceBuilder b = rotated_file();
    b.trace_end(kCollector, 7000, -1, {kServer, kChild});
    auto tree = built_tree(b);
    EXPECT_TRUE(tree.episodes.empty());
}

TEST(CarriedProcess, RecordsNumberedInTheFileBeforeAreNotLost) {
    TraceBuilder b = rotated_file();
    b.next_seq_of(kServer, 40)
        .created(kServer, 5500, wire::CreateHow::kFork, 302)
        .created(kServer, 5600, wire::CreateHow::kFork, 303);
    b.trace_end(kCollector, 7000, -1, {kServer});
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, kServer).seq_gaps(), 0u);
}

TEST(CarriedProcess, AHoleAfterTheFirstRecordOfThisFileIsStillLost) {
    TraceBuilder b = rotated_file();
    b.next_seq_of(kServer, 40).created(kServer, 5500, wire::CreateHow::kFork, 302);
    b.next_seq_of(kServer, 43).created(kServer, 5600, wire::CreateHow::kFork, 303);
    b.trace_end(kCollector, 7000, -1, {kServer});
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, kServer).seq_gaps(), 2u);
}

}  // namespace
}  // namespace cowtrace

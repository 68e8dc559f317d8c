// Trace rotation learns from the record stream what a new file must carry (live processes, open
// episodes), forgets what is gone, and shifts the rotated files as --keep says.
#include "collector/trace_rotation.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "model/tree_builder.hpp"
#include "trace_builder.hpp"

namespace cowtrace::collector {
namespace {

using testing::TraceBuilder;

constexpr pid_t kCollector = 100;
constexpr pid_t kServer = 101;
constexpr pid_t kChild = 200;
constexpr uint64_t kMiB = 1 << 20;

void feed(TraceRotation& r, const TraceBuilder& b) {
    for (const RawRecord& rec : b.records()) {
        std::vector<uint8_t> bytes(sizeof rec.header + rec.payload.size());
        memcpy(bytes.data(), &rec.header, sizeof rec.header);
        memcpy(bytes.data() + sizeof rec.header, rec.payload.data(), rec.payload.size());
        r.on_record(bytes.data(), bytes.size());
    }
}

std::string temp_path(const std::string& name) {
    return ::testing::TempDir() + "/cowtrace-rotation-" + std::to_string(getpid()) + "-" + name;
}

// A server that forked a child whose episode is open.
TraceBuilder server_with_open_episode() {
    TraceBuilder b;
    b.hello(kServer, 1000, 1, "/usr/bin/redis-server", {"redis-server", "*:6379"})
        .created(kServer, 2000, wire::CreateHow::kFork, kChild)
        .child_start(kChild, 2001, wire::CreateHow::kFork, kServer)
        .episode_start(kChild, 2002, kServer, 64 * kMiB)
        .episode_sample(kChild, 3000, 60 * kMiB, 4 * kMiB, 0, 4 * kMiB);
    return b;
}

TEST(TraceRotation, ANewFileKnowsTheLiveProcessesAndTheOpenEpisodes) {
    TraceRotation rotation({.max_bytes = 1}, temp_path("unused"));
    feed(rotation, server_with_open_episode());
    EXPECT_EQ(rotation.processes_known(), 2u);
    EXPECT_EQ(rotation.episodes_open(), 1u);

    std::string path = temp_path("new.trace");
    TraceWriter writer;
    std::string error;
    ASSERT_TRUE(writer.open(path, error)) << error;
    TraceBuilder start;
    start.trace_start(kCollector, 0, 5000, 5000, {});
    for (const RawRecord& rec : start.records()) {
        std::vector<uint8_t> bytes(sizeof rec.header + rec.payload.size());
        memcpy(bytes.data(), &rec.header, sizeof rec.header);
        memcpy(bytes.data() + sizeof rec.header, rec.payload.data(), rec.payload.size());
        writer.append(bytes.data(), bytes.size());
    }
    rotation.carry_over(writer, 5000);
    writer.write(wire::EpisodeSample{60 * kMiB, 5 * kMiB, 0, 5 * kMiB, 0, 0, 0}, kChild, 6000);
    ASSERT_TRUE(writer.close(error)) << error;

    model::ProcessTree tree;
    ASSERT_TRUE(model::build_process_tree({path}, tree, error)) << error;
    unlink(path.c_str());
    ASSERT_EQ(tree.processes.size(), 2u);
    const model::Process* server = tree.find_current(kServer);
    const model::Process* child = tree.find_current(kChild);
    ASSERT_TRUE(server && child);
    EXPECT_TRUE(server->carried_over && child->carried_over);
    EXPECT_EQ(child->ppid, kServer);
    ASSERT_EQ(tree.execs_of(*server).size(), 1u);
    EXPECT_EQ(tree.execs_of(*server)[0].path, "/usr/bin/redis-server");
    ASSERT_EQ(tree.episodes.size(), 1u);
    EXPECT_EQ(tree.episodes[0].shared_bytes_at_fork, 64 * kMiB);
    EXPECT_EQ(tree.episodes[0].copied_bytes_peak, 5 * kMiB) << "its samples go on in this file";
}

// dash and posix_spawn create with vfork: no Created record names the child, which introduces
// itself on its parent's channel, and its call site is the SpawnBegin its token claims.
TEST(TraceRotation, AVforkChildIsCarriedWithItsCreatorAndCallSite) {
    TraceRotation rotation({.max_bytes = 1}, temp_path("unused"));
    TraceBuilder b;
    b.hello(kServer, 1000, 1, "/bin/dash", {"sh", "-c", "sleep 1"})
        .spawn_begin(kServer, 2000, wire::CreateHow::kVfork, 7, {0x401000, 0x402000})
        .child_start(kChild, 2001, wire::CreateHow::kVfork, kServer, 7, wire::kFromVforkChild)
        .hello(kChild, 2100, kServer, "/bin/sleep", {"sleep", "1"});
    feed(rotation, b);

    std::string path = temp_path("vfork.trace");
    TraceWriter writer;
    std::string error;
    ASSERT_TRUE(writer.open(path, error)) << error;
    TraceBuilder start;
    start.trace_start(kCollector, 0, 5000, 5000, {});
    for (const RawRecord& rec : start.records()) {
        std::vector<uint8_t> bytes(sizeof rec.header + rec.payload.size());
        memcpy(bytes.data(), &rec.header, sizeof rec.header);
        memcpy(bytes.data() + sizeof rec.header, rec.payload.data(), rec.payload.size());
        writer.append(bytes.data(), bytes.size());
    }
    rotation.carry_over(writer, 5000);
    ASSERT_TRUE(writer.close(error)) << error;

    model::ProcessTree tree;
    ASSERT_TRUE(model::build_process_tree({path}, tree, error)) << error;
    unlink(path.c_str());
    const model::Process* child = tree.find_current(kChild);
    ASSERT_TRUE(child);
    EXPECT_EQ(child->ppid, kServer);
    EXPECT_EQ(child->how, wire::CreateHow::kVfork);
    EXPECT_TRUE(child->creation_seen_by_shim);
    EXPECT_EQ(child->call_site.size(), 2u);
}

TEST(TraceRotation, ACallSiteSymbolIsCarriedWithTheFunctionsItWasInlinedInto) {
    TraceRotation rotation({.max_bytes = 1}, temp_path("unused"));
    const char* inlined_into[] = {"main (w.c:30)", nullptr};
    wire::Symbol symbol{kServer, 0x401000, "spawn (w.c:12)"};
    symbol.inlined_into = wire::TextList::of_array(inlined_into);
    TraceBuilder b;
    b.hello(kServer, 1000, 1, "/bin/dash", {"sh", "-c", "sleep 1"})
        .spawn_begin(kServer, 2000, wire::CreateHow::kVfork, 7, {0x401000, 0x402000})
        .child_start(kChild, 2001, wire::CreateHow::kVfork, kServer, 7, wire::kFromVforkChild)
        .add(symbol, kCollector, 3000);
    feed(rotation, b);

    std::string path = temp_path("symbols.trace");
    TraceWriter writer;
    std::string error;
    ASSERT_TRUE(writer.open(path, error)) << error;
    TraceBuilder start;
    start.trace_start(kCollector, 0, 5000, 5000, {});
    for (const RawRecord& rec : start.records()) {
        std::vector<uint8_t> bytes(sizeof rec.header + rec.payload.size());
        memcpy(bytes.data(), &rec.header, sizeof rec.header);
        memcpy(bytes.data() + sizeof rec.header, rec.payload.data(), rec.payload.size());
        writer.append(bytes.data(), bytes.size());
    }
    rotation.carry_over(writer, 5000);
    ASSERT_TRUE(writer.close(error)) << error;

    model::ProcessTree tree;
    ASSERT_TRUE(model::build_process_tree({path}, tree, error)) << error;
    unlink(path.c_str());
    EXPECT_EQ(tree.symbols.at({kServer, 0x401000}), "spawn (w.c:12)");
    EXPECT_EQ(tree.symbols_inlined_into.at({kServer, 0x401000}),
              std::vector<std::string>{"main (w.c:30)"});
}

TEST(TraceRotation, WhatIsGoneIsForgotten) {
    TraceRotation rotation({.max_bytes = 1}, temp_path("unused"));
    TraceBuilder b = server_with_open_episode();
    b.episode_end(kChild, 4000, wire::EpisodeEndReason::kExit);
    feed(rotation, b);
    rotation.process_gone(kChild);
    EXPECT_EQ(rotation.processes_known(), 1u);
    EXPECT_EQ(rotation.episodes_open(), 0u);
    EXPECT_EQ(rotation.alive(), std::vector<int32_t>{kServer});
}

TEST(TraceRotation, AnEpisodeEndedAsRunningByARotationStaysOpen) {
    TraceRotation rotation({.max_bytes = 1}, temp_path("unused"));
    TraceBuilder b = server_with_open_episode();
    b.episode_end(kChild, 4000, wire::EpisodeEndReason::kRunning);
    feed(rotation, b);
    EXPECT_EQ(rotation.episodes_open(), 1u);
}

TEST(TraceRotation, DueBySizeOrAge) {
    TraceRotation by_size({.max_bytes = 1000}, "x");
    EXPECT_FALSE(by_size.due(10, 0, 999));
    EXPECT_TRUE(by_size.due(10, 0, 1000));
    TraceRotation by_age({.max_age_ns = 100}, "x");
    EXPECT_FALSE(by_age.due(1099, 1000, 1u << 30));
    EXPECT_TRUE(by_age.due(1100, 1000, 0));
}

TEST(TraceRotation, FilesShiftAndTheOnePastKeepGoes) {
    std::string path = temp_path("shift.trace");
    auto put = [](const std::string& p, const std::string& text) { std::ofstream(p) << text; };
    auto read = [](const std::string& p) {
        std::ifstream in(p);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    TraceRotation rotation({.max_bytes = 1, .keep = 2}, path);
    std::string error;
    put(path, "first");
    ASSERT_TRUE(rotation.shift_files(error)) << error;
    put(path, "second");
    ASSERT_TRUE(rotation.shift_files(error)) << error;
    put(path, "third");
    ASSERT_TRUE(rotation.shift_files(error)) << error;
    EXPECT_EQ(read(path + ".1"), "third");
    EXPECT_EQ(read(path + ".2"), "second");
    EXPECT_NE(access((path + ".3").c_str(), F_OK), 0);
    EXPECT_NE(access(path.c_str(), F_OK), 0);
    unlink((path + ".1").c_str());
    unlink((path + ".2").c_str());
}

}  // namespace
}  // namespace cowtrace::collector

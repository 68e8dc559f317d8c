// Payloads that lie about their lengths (a damaged spool file, a buggy or hostile sender) are
// decoded as far as they go and never make the builder read outside the record.
#include <gtest/gtest.h>

#include <vector>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using testing::built_tree;
using testing::kCollector;
using testing::kRoot;
using testing::only;
using testing::TraceBuilder;

// Payloads that are each wrong in a different way.
const std::vector<std::vector<uint8_t>> kBadPayloads = {
    {},                                    // nothing at all
    {0x01},                                // a field cut short
    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},  // lengths and counts at their maximum
    {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00},  // string past the end
    {0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00},
};

TEST(MalformedPayload, NoRecordTypeCrashesOnALyingPayload) {
    // Every type the format knows, some it does not, for every bad payload.
    for (uint16_t type = 0; type < 64; ++type) {
        for (const auto& payload : kBadPayloads) {
            TraceBuilder b;
            b.trace_start(kCollector, kRoot, 1000, 1000).raw(type, kRoot, 2000, payload);
            auto tree = built_tree(b);
            // At most the root, the sender and one pid named in the payload.
            EXPECT_LE(tree.processes.size(), 3u) << "type " << type;
        }
    }
}

TEST(MalformedPayload, HelloWithAnArgvItemPastTheEndKeepsWhatCameBefore) {
    std::vector<uint8_t> payload = {
        0x01, 0x00, 0x00, 0x00,  // flags
        0x64, 0x00, 0x00, 0x00,  // ppid 100
        0x02, 0x00, 's',  'h',   // AT_EXECFN "sh"
        0x03, 0x00,              // three argv items announced
        0x02, 0x00, 's',  'h',   // "sh"
        0xff, 0x00, '-',         // 255 bytes announced, one present
    };
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000).raw(20, kRoot, 2000, payload);
    auto tree = built_tree(b);
    const auto& root = only(tree, kRoot);
    EXPECT_TRUE(root.shim_loaded);
    ASSERT_EQ(tree.execs_of(root).size(), 1u);
    EXPECT_EQ(tree.execs_of(root)[0].path, "sh");
    EXPECT_EQ(root.argv, (std::vector<std::string>{"sh"}));
}

TEST(MalformedPayload, CreatedWithACallSiteCountPastTheEndStillNamesTheChild) {
    std::vector<uint8_t> payload = {
        0x01,                                // fork
        0xc8, 0x00, 0x00, 0x00,              // child 200
        0x00, 0x00, 0x00, 0x00,              // error
        0,    0,    0,    0,    0, 0, 0, 0,  // clone flags
        0x20, 0x00,                          // 32 frames announced, none present
    };
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000).raw(21, kRoot, 2000, payload);
    auto tree = built_tree(b);
    const auto& child = only(tree, 200);
    EXPECT_EQ(child.ppid, kRoot);
    EXPECT_TRUE(child.call_site.empty());
}

TEST(MalformedPayload, EpisodeRegionsWithACountPastTheEndStopsAtTheEnd) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .episode_start(200, 2000, kRoot, 1 << 20)
        .record(wire::RecordType::kEpisodeRegions, 200, 2100, [](wire::WireWriter& w) {
            w.u32(1'000'000'000);  // announced
            w.cstr("[heap]");      // present: one region
            w.u64(4096);
            w.u64(0);
            w.u64(0);
            w.u64(0);
            w.cstr("[stack]");  // cut: its figures are missing
        });
    auto tree = built_tree(b);
    ASSERT_EQ(tree.episodes.size(), 1u);
    ASSERT_EQ(tree.regions_of(tree.episodes[0]).size(), 1u);
    EXPECT_EQ(tree.regions_of(tree.episodes[0])[0].name, "[heap]");
}

TEST(MalformedPayload, TraceEndWithMoreLeftoversAnnouncedThanPresentKeepsThePresentOnes) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .created(kRoot, 1500, wire::CreateHow::kFork, 200)
        .exit(200, 1600, wire::ExitHow::kExit, 0)
        .record(wire::RecordType::kTraceEnd, kCollector, 3000, [](wire::WireWriter& w) {
            w.i32(0);
            w.u64(0);
            w.u64(0);
            w.u64(0);
            w.u16(0xffff);
            w.i32(200);
        });
    auto tree = built_tree(b);
    EXPECT_TRUE(tree.complete);
    EXPECT_TRUE(only(tree, 200).still_running);
}

TEST(MalformedPayload, UnknownRecordTypeIsSkipped) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000).raw(999, 555, 2000, {1, 2, 3, 4});
    auto tree = built_tree(b);
    EXPECT_TRUE(testing::all_with_pid(tree, 555).empty());
}

}  // namespace
}  // namespace cowtrace

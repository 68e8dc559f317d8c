// The compatibility rule seen from the model: records from a newer writer (fields appended)
// and from an older one (trailing fields missing) build the same tree.
#include <gtest/gtest.h>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using testing::built_tree;
using testing::kCollector;
using testing::kRoot;
using testing::only;
using testing::TraceBuilder;

TEST(AppendedFields, HelloWithFieldsFromANewerShimIsUnderstood) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .record(wire::RecordType::kHello, kRoot, 1100, [](wire::WireWriter& w) {
            w.u32(wire::kHelloAfterExec);
            w.i32(kCollector);
            w.cstr("/bin/sh");
            const char* argv[] = {"sh", "-c", "true", nullptr};
            w.strlist(argv, 4096);
            w.u32(1000);
            w.u32(1000);
            w.u64(42);         // appended by a later version
            w.cstr("future");  // and another
        });
    auto tree = built_tree(b);
    const auto& root = only(tree, kRoot);
    ASSERT_EQ(tree.execs_of(root).size(), 1u);
    EXPECT_EQ(tree.execs_of(root)[0].path, "/bin/sh");
    EXPECT_EQ(root.argv, (std::vector<std::string>{"sh", "-c", "true"}));
    EXPECT_TRUE(root.shim_loaded);
}

TEST(AppendedFields, ExecAttemptFromAnOlderShimReadsTheMissingFlagAsFalse) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .record(wire::RecordType::kExecAttempt, kRoot, 2000, [](wire::WireWriter& w) {
            w.cstr("/bin/ls");
            w.cstr("");
            w.u32(0);
            const char* argv[] = {"ls", nullptr};
            w.strlist(argv, 4096);
            // no "environment re-injected" byte: it came later
        });
    auto tree = built_tree(b);
    const auto& root = only(tree, kRoot);
    ASSERT_EQ(tree.execs_of(root).size(), 1u);
    EXPECT_EQ(tree.execs_of(root)[0].path, "/bin/ls");
    EXPECT_FALSE(tree.execs_of(root)[0].env_reinjected);
}

TEST(AppendedFields, TraceStartWithoutTheRootForkTimeStartsTheRootAtTheTraceStart) {
    TraceBuilder b;
    b.record(wire::RecordType::kTraceStart, kCollector, 1000, [](wire::WireWriter& w) {
        w.u64(0);
        w.i32(kCollector);
        w.i32(kRoot);
        const char* command[] = {"true", nullptr};
        w.strlist(command, 4096);
        // everything after the command is missing
    });
    auto tree = built_tree(b);
    EXPECT_EQ(tree.page_size, 4096u);
    EXPECT_EQ(only(tree, kRoot).start_ns, 0u);
    EXPECT_EQ(tree.command, (std::vector<std::string>{"true"}));
}

TEST(AppendedFields, RecordTypeFromANewerWriterIsSkipped) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1000).raw(60, kRoot, 2000, {9, 9, 9});
    auto tree = built_tree(b);
    EXPECT_EQ(tree.processes.size(), 1u);
    EXPECT_TRUE(tree.execs_of(only(tree, kRoot)).empty());
}

TEST(AppendedFields, SymbolWithInlinedFramesKeepsThemAndAnOlderSymbolHasNone) {
    TraceBuilder b;
    const char* inlined_into[] = {"spawn_worker (w.c:20)", "main (w.c:31)", nullptr};
    wire::Symbol inlined{kRoot, 0xa1, "fork_child (w.c:12)"};
    inlined.inlined_into = wire::TextList::of_array(inlined_into);
    b.trace_start(kCollector, kRoot, 1000, 1000)
        .add(inlined, kCollector, 1200)
        .record(wire::RecordType::kSymbol, kCollector, 1300, [](wire::WireWriter& w) {
            w.i32(kRoot);  // as written before inlined_into was appended
            w.u64(0xb2);
            w.cstr("main+0x1dc (cow_writer)");
        });
    auto tree = built_tree(b);
    EXPECT_EQ(tree.symbols.at({kRoot, 0xa1}), "fork_child (w.c:12)");
    EXPECT_EQ(tree.symbols_inlined_into.at({kRoot, 0xa1}),
              (std::vector<std::string>{"spawn_worker (w.c:20)", "main (w.c:31)"}));
    EXPECT_EQ(tree.symbols.at({kRoot, 0xb2}), "main+0x1dc (cow_writer)");
    EXPECT_EQ(tree.symbols_inlined_into.count({kRoot, 0xb2}), 0u);
}

}  // namespace
}  // namespace cowtrace

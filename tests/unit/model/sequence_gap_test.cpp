// Per-process sequence numbers: a hole means a record was lost, and the report must say so.
// Numbering restarts with every new process and every exec'd image.
#include <gtest/gtest.h>

#include "built_tree.hpp"

namespace cowtrace {
namespace {

using testing::built_tree;
using testing::kCollector;
using testing::kRoot;
using testing::only;
using testing::TraceBuilder;
using testing::traced_root;

TEST(SequenceGap, ConsecutiveNumbersCountNoGap) {
    TraceBuilder b = traced_root();
    b.created(kRoot, 2000, wire::CreateHow::kFork, 200)
        .created(kRoot, 2100, wire::CreateHow::kFork, 201)
        .exit(kRoot, 2200, wire::ExitHow::kExit, 0);
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, kRoot).seq_gaps(), 0u);
}

TEST(SequenceGap, MissingNumbersAreCountedAsLostRecords) {
    TraceBuilder b = traced_root();
    b.created(kRoot, 2000, wire::CreateHow::kFork, 200)  // seq 1
        .next_seq_of(kRoot, 4)                           // 2 and 3 never arrived
        .exit(kRoot, 2200, wire::ExitHow::kExit, 0);
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, kRoot).seq_gaps(), 2u);
}

TEST(SequenceGap, NumberingRestartsWithEachExecdImage) {
    TraceBuilder b = traced_root();
    b.created(kRoot, 2000, wire::CreateHow::kFork, 200)
        .exec_attempt(kRoot, 2100, "/bin/ls", {"ls"})
        .hello(kRoot, 2200, kCollector, "/bin/ls", {"ls"})  // seq 0 again
        .exit(kRoot, 2300, wire::ExitHow::kExit, 0);
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, kRoot).seq_gaps(), 0u);
}

TEST(SequenceGap, NumberingOfAForkedChildStartsAtZero) {
    TraceBuilder b = traced_root();
    b.created(kRoot, 2000, wire::CreateHow::kFork, 200)
        .child_start(200, 2001, wire::CreateHow::kFork, kRoot)
        .exit(200, 2100, wire::ExitHow::kExit, 0);
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, 200).seq_gaps(), 0u);
}

TEST(SequenceGap, LostFirstRecordsOfAChildCountAsLost) {
    // A collector killed with the child's first records in its socket: the later ones, spooled,
    // start past 0.
    TraceBuilder b = traced_root();
    b.created(kRoot, 2000, wire::CreateHow::kFork, 200)
        .next_seq_of(200, 1)  // its ChildStart (seq 0) was lost
        .exit(200, 2100, wire::ExitHow::kExit, 0)
        .next_seq_of(200, 5)
        .wait_reaped(200, 2200, wire::WaitCall::kWait, 300, 0);
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, 200).seq_gaps(), 4u);  // 0, 2, 3 and 4
}

TEST(SequenceGap, VforkChildRecordsAreNotNumbered) {
    TraceBuilder b = traced_root();
    b.spawn_begin(kRoot, 2000, wire::CreateHow::kVfork, 1)
        .child_start(200, 2001, wire::CreateHow::kVfork, kRoot, 1, wire::kFromVforkChild)
        .exec_attempt(200, 2002, "/bin/ls", {"ls"}, "", 0, wire::kFromVforkChild)
        .hello(200, 2100, kRoot, "/bin/ls", {"ls"})
        .exit(200, 2200, wire::ExitHow::kExit, 0);
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, 200).seq_gaps(), 0u);
    EXPECT_EQ(only(tree, kRoot).seq_gaps(), 0u);
}

TEST(SequenceGap, DroppedRecordsAreAddedToTheProcessAndTheTrace) {
    TraceBuilder b = traced_root();
    b.dropped(kRoot, 2000, 7);
    auto tree = built_tree(b);
    EXPECT_EQ(only(tree, kRoot).dropped_records(), 7u);
    EXPECT_EQ(tree.dropped_records, 7u);
}

}  // namespace
}  // namespace cowtrace

// Command lines as the model keeps them: one shared, immutable list of words per distinct line,
// so that a build of thousands of identical compiler runs holds the line once.
#include "model/command_line.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "built_tree.hpp"
#include "wire/fields.hpp"

namespace cowtrace::model {
namespace {

using testing::built_tree;
using testing::kRoot;
using testing::only;
using testing::TraceBuilder;
using testing::traced_root;

TEST(CommandLine, WordsRoundTripInOrder) {
    std::vector<std::string> words = {"/usr/bin/cc", "-c", "", "a b.c", std::string("x\0y", 3)};
    CommandLine line(words);
    ASSERT_EQ(line.size(), 5u);
    EXPECT_FALSE(line.empty());
    EXPECT_EQ(line.front(), "/usr/bin/cc");
    EXPECT_EQ(line[2], "");
    EXPECT_EQ(line[3], "a b.c");
    EXPECT_EQ(line[4], std::string_view("x\0y", 3));
    EXPECT_EQ(line.words(), words);
    EXPECT_EQ(line, words);
    std::vector<std::string> iterated(line.begin(), line.end());
    EXPECT_EQ(iterated, words);
}

// Word offsets are 16 bits while the words' bytes fit in them, 32 beyond: words on both sides of
// the 64 KiB boundary, and a word that ends exactly on it, read back whole.
TEST(CommandLine, WordsOfALineLongerThan64KiBRoundTrip) {
    for (size_t total : {size_t{65535}, size_t{65536}, size_t{200000}}) {
        std::vector<std::string> words = {"sh", "-c", std::string(total - 6, 'x'), "ab"};
        CommandLine line(words);
        ASSERT_EQ(line.size(), 4u) << total;
        EXPECT_EQ(line[0], "sh") << total;
        EXPECT_EQ(line[2].size(), total - 6) << total;
        EXPECT_EQ(line[3], "ab") << total;
        EXPECT_EQ(line.words(), words) << total;
    }
}

TEST(CommandLine, EmptyLineHasNoWords) {
    CommandLine none;
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.size(), 0u);
    EXPECT_EQ(none.begin(), none.end());
    EXPECT_EQ(none.joined(), "");
    EXPECT_EQ(none, std::vector<std::string>{});
    CommandLineTable table;
    EXPECT_TRUE(table.intern(std::vector<std::string>{}).empty());
    EXPECT_EQ(table.size(), 0u);  // nothing to share
}

TEST(CommandLine, JoinedPutsTheSeparatorBetweenWords) {
    CommandLine line{"sh", "-c", "true"};
    EXPECT_EQ(line.joined(), "sh -c true");
    EXPECT_EQ(line.joined(","), "sh,-c,true");
}

TEST(CommandLine, CopiesShareStorageAndOutliveTheOriginal) {
    CommandLine copy;
    {
        CommandLine original{"/bin/true"};
        copy = original;
        EXPECT_TRUE(copy.shares_storage_with(original));
    }
    EXPECT_EQ(copy, (std::vector<std::string>{"/bin/true"}));
    std::ostringstream printed;
    printed << copy;
    EXPECT_EQ(printed.str(), "{\"/bin/true\"}");
}

// The table keeps its lines many to a block: lines from several blocks, and one too large for a
// block, read back after the table is gone, while other lines of their blocks are gone too.
TEST(CommandLineTable, LinesKeptManyToABlockOutliveTheTableAndTheirNeighbours) {
    std::vector<CommandLine> kept;
    std::vector<std::vector<std::string>> expected;
    {
        CommandLineTable table;
        std::vector<CommandLine> dropped;
        for (int i = 0; i < 5000; ++i) {
            std::vector<std::string> words = {"/usr/bin/cc", "-c", "src/unit" + std::to_string(i)};
            if (i == 2500) words.push_back(std::string(20000, 'y'));  // a block of its own
            CommandLine line = table.intern(words);
            if (i % 7 == 0 || i == 2500) {
                kept.push_back(line);
                expected.push_back(words);
            } else {
                dropped.push_back(line);
            }
        }
        EXPECT_EQ(table.size(), 5000u);
    }
    ASSERT_EQ(kept.size(), expected.size());
    for (size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(kept[i], expected[i]) << i;
    CommandLine copy = kept.back();
    kept.clear();
    EXPECT_EQ(copy, expected.back());
}

TEST(CommandLineTable, IdenticalLinesShareOneStorage) {
    CommandLineTable table;
    CommandLine a = table.intern(std::vector<std::string>{"/bin/true", "x"});
    CommandLine b = table.intern(std::vector<std::string>{"/bin/true", "x"});
    EXPECT_TRUE(a.shares_storage_with(b));
    EXPECT_EQ(table.size(), 1u);
}

TEST(CommandLineTable, DistinctLinesDiffer) {
    CommandLineTable table;
    CommandLine a = table.intern(std::vector<std::string>{"ab", "c"});
    CommandLine b = table.intern(std::vector<std::string>{"a", "bc"});  // same bytes, split apart
    CommandLine c = table.intern(std::vector<std::string>{"c", "ab"});  // same words, reordered
    CommandLine d = table.intern(std::vector<std::string>{"ab", "c", ""});
    EXPECT_FALSE(a.shares_storage_with(b));
    EXPECT_FALSE(a.shares_storage_with(c));
    EXPECT_FALSE(a.shares_storage_with(d));
    EXPECT_NE(a, b);
    EXPECT_NE(a, c);
    EXPECT_NE(a, d);
    EXPECT_EQ(table.size(), 4u);
}

TEST(CommandLineTable, RecordListsAndStringsInternAlike) {
    CommandLineTable table;
    const char* items[] = {"make", "-j2", nullptr};
    bool truncated = true;
    CommandLine from_record = table.intern(wire::TextList::of_array(items), &truncated);
    EXPECT_FALSE(truncated);
    CommandLine from_strings = table.intern(std::vector<std::string>{"make", "-j2"});
    EXPECT_TRUE(from_record.shares_storage_with(from_strings));
    EXPECT_EQ(from_record, (std::vector<std::string>{"make", "-j2"}));
}

TEST(CommandLineTable, LinesOutliveTheTable) {
    CommandLine kept;
    {
        CommandLineTable table;
        kept = table.intern(std::vector<std::string>{"/usr/bin/cc", "-c", "x.c"});
    }
    EXPECT_EQ(kept, (std::vector<std::string>{"/usr/bin/cc", "-c", "x.c"}));
}

// The model's build interns: every process that ran the same line, and the hello's and the
// exec's line of one process, hold one storage.
TEST(CommandLineTable, ProcessesRunningOneCommandShareItsLine) {
    TraceBuilder b = traced_root();
    for (pid_t pid = 200; pid < 210; ++pid) {
        b.created(kRoot, 2000 + pid, wire::CreateHow::kFork, pid)
            .exec_attempt(pid, 2100 + pid, "/bin/true", {"/bin/true"})
            .hello(pid, 2200 + pid, kRoot, "/bin/true", {"/bin/true"});
    }
    ProcessTree tree = built_tree(b);
    const Process& first = only(tree, 200);
    ASSERT_EQ(tree.execs_of(first).size(), 1u);
    EXPECT_TRUE(first.argv.shares_storage_with(tree.execs_of(first)[0].argv));
    for (pid_t pid = 201; pid < 210; ++pid) {
        const Process& p = only(tree, pid);
        EXPECT_TRUE(p.argv.shares_storage_with(first.argv)) << pid;
        ASSERT_EQ(tree.execs_of(p).size(), 1u);
        EXPECT_TRUE(tree.execs_of(p)[0].argv.shares_storage_with(first.argv)) << pid;
    }
    EXPECT_EQ(first.argv, (std::vector<std::string>{"/bin/true"}));
    EXPECT_FALSE(only(tree, kRoot).argv.shares_storage_with(first.argv));
}

}  // namespace
}  // namespace cowtrace::model

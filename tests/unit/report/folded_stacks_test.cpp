#include "report/folded_stacks.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "tree_fixture.hpp"

namespace cowtrace::report {
namespace {

using testing::kMiB;
using testing::kMs;
using testing::TreeFixture;

std::string folded_of(const model::ProcessTree& tree) {
    std::ostringstream out;
    write_folded(tree, out);
    return out.str();
}

TEST(FoldedStacks, SameCallSiteIsOneLineWeightedByTheSumOfPeaks) {
    TreeFixture f;
    size_t root = f.root(100, {"/usr/bin/server"});
    for (pid_t pid = 101; pid <= 103; ++pid) {
        size_t c = f.child(root, pid, pid * kMs, (pid + 50) * kMs, {0xa1, 0xb2, 0xc3});
        f.episode(c, 8 * kMiB, static_cast<uint64_t>(pid), 1);
    }
    EXPECT_EQ(folded_of(f.tree), "server;0xc3;0xb2;0xa1;fork 306\n");
}

TEST(FoldedStacks, SymbolsOfTheCreatorReplaceAddressesAndSeparatorsAreNeutralised) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t c = f.child(root, 101, 10 * kMs, 20 * kMs, {0xa1, 0xb2});
    f.episode(c, 8 * kMiB, 4096, 4096);
    f.tree.symbols[{100, 0xa1}] = "save;child+0x4 (server)";
    f.tree.symbols[{101, 0xb2}] = "not the creator's";
    EXPECT_EQ(folded_of(f.tree), "server;0xb2;save_child+0x4 (server);fork 4096\n");
}

TEST(FoldedStacks, InlinedFramesAreFramesOfTheirOwnOutermostFirst) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t c = f.child(root, 101, 10 * kMs, 20 * kMs, {0xa1, 0xb2});
    f.episode(c, 8 * kMiB, 4096, 4096);
    f.tree.symbols[{100, 0xa1}] = "spawn (w.c:10)";
    f.tree.symbols_inlined_into[{100, 0xa1}] = {"start_worker (w.c:20)", "main (w.c:30)"};
    EXPECT_EQ(folded_of(f.tree),
              "server;0xb2;main (w.c:30);start_worker (w.c:20);spawn (w.c:10);fork 4096\n");
}

TEST(FoldedStacks, EpisodesThatCopiedNothingAreLeftOutAndUnknownSitesAreNamed) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t quiet = f.child(root, 101, 10 * kMs, 20 * kMs, {0xa1});
    size_t blind = f.child(root, 102, 30 * kMs, 40 * kMs, {});
    f.episode(quiet, 8 * kMiB, 0, 0);
    f.episode(blind, 8 * kMiB, 8192, 8192);
    EXPECT_EQ(folded_of(f.tree), "server;[call site unknown];fork 8192\n");
}

}  // namespace
}  // namespace cowtrace::report

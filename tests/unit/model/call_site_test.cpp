// Call sites as the model keeps them: one shared, immutable list of return addresses per
// distinct site, so that the thousands of children of one fork site hold it once.
#include "model/call_site.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "built_tree.hpp"

namespace cowtrace::model {
namespace {

using testing::built_tree;
using testing::kCollector;
using testing::kRoot;
using testing::only;
using testing::TraceBuilder;

TEST(CallSite, FramesRoundTripInOrder) {
    std::vector<uint64_t> frames = {0x401000, 0x402000, 0x7f0000001234};
    CallSite site(frames);
    ASSERT_EQ(site.size(), 3u);
    EXPECT_FALSE(site.empty());
    EXPECT_EQ(site.front(), 0x401000u);
    EXPECT_EQ(site.back(), 0x7f0000001234u);
    EXPECT_EQ(site[1], 0x402000u);
    EXPECT_EQ(site, frames);
    EXPECT_EQ(std::vector<uint64_t>(site.begin(), site.end()), frames);
    EXPECT_EQ(std::vector<uint64_t>(site.rbegin(), site.rend()),
              (std::vector<uint64_t>{0x7f0000001234, 0x402000, 0x401000}));
}

TEST(CallSite, UnknownSiteHasNoFrames) {
    CallSite none;
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.size(), 0u);
    EXPECT_EQ(none.begin(), none.end());
    EXPECT_EQ(none, std::vector<uint64_t>{});
    EXPECT_EQ(none, CallSite(std::vector<uint64_t>{}));
    CallSiteTable table;
    EXPECT_TRUE(table.intern({}).empty());
    EXPECT_EQ(table.size(), 0u);  // nothing to share
}

TEST(CallSite, CopiesShareStorageAndOutliveTheOriginal) {
    CallSite copy;
    {
        CallSite original{0x10, 0x20};
        copy = original;
        EXPECT_TRUE(copy.shares_storage_with(original));
    }
    EXPECT_EQ(copy, (std::vector<uint64_t>{0x10, 0x20}));
    std::ostringstream printed;
    printed << copy;
    EXPECT_EQ(printed.str(), "{0x10, 0x20}");
}

TEST(CallSiteTable, IdenticalSitesShareOneStorage) {
    CallSiteTable table;
    std::vector<uint64_t> frames = {0x401000, 0x402000};
    CallSite a = table.intern(frames);
    CallSite b = table.intern(std::vector<uint64_t>(frames));
    EXPECT_TRUE(a.shares_storage_with(b));
    EXPECT_EQ(table.size(), 1u);
}

TEST(CallSiteTable, DistinctSitesDiffer) {
    CallSiteTable table;
    std::vector<uint64_t> ab = {0xa, 0xb}, ba = {0xb, 0xa}, a = {0xa};
    CallSite x = table.intern(ab);
    CallSite y = table.intern(ba);  // the same frames in the other order
    CallSite z = table.intern(a);   // a prefix
    EXPECT_FALSE(x.shares_storage_with(y));
    EXPECT_FALSE(x.shares_storage_with(z));
    EXPECT_NE(x, y);
    EXPECT_NE(x, z);
    EXPECT_EQ(table.size(), 3u);
}

TEST(CallSiteTable, ManySitesSurviveGrowth) {
    CallSiteTable table;
    std::vector<CallSite> sites;
    for (uint64_t i = 0; i < 5000; ++i) {
        std::vector<uint64_t> frames = {0x400000 + i, i % 7};
        sites.push_back(table.intern(frames));
    }
    EXPECT_EQ(table.size(), 5000u);
    for (uint64_t i = 0; i < 5000; ++i) {
        std::vector<uint64_t> frames = {0x400000 + i, i % 7};
        CallSite again = table.intern(frames);
        EXPECT_TRUE(again.shares_storage_with(sites[i])) << i;
        EXPECT_EQ(again, frames);
    }
    EXPECT_EQ(table.size(), 5000u);
}

TEST(CallSiteTable, ChildrenOfOneForkSiteShareTheirCallSite) {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1010)
        .hello(kRoot, 1100, kCollector, "/bin/sh", {"sh"})
        .created(kRoot, 2000, wire::CreateHow::kFork, 200, {0x401000, 0x402000})
        .child_start(200, 2001, wire::CreateHow::kFork, kRoot)
        .created(kRoot, 3000, wire::CreateHow::kFork, 201, {0x401000, 0x402000})
        .child_start(201, 3001, wire::CreateHow::kFork, kRoot)
        .created(kRoot, 4000, wire::CreateHow::kFork, 202, {0x401000, 0x403000})
        .child_start(202, 4001, wire::CreateHow::kFork, kRoot);
    auto tree = built_tree(b);
    const Process& first = only(tree, 200);
    const Process& second = only(tree, 201);
    const Process& other = only(tree, 202);
    EXPECT_EQ(first.call_site, (std::vector<uint64_t>{0x401000, 0x402000}));
    EXPECT_TRUE(first.call_site.shares_storage_with(second.call_site));
    EXPECT_EQ(other.call_site, (std::vector<uint64_t>{0x401000, 0x403000}));
    EXPECT_FALSE(first.call_site.shares_storage_with(other.call_site));
}

}  // namespace
}  // namespace cowtrace::model

// Call-site frames: a return address whose code was inlined is several frames, innermost first
// in messages and outermost first in stacks, and every frame counts toward a message's limit.
#include "report/call_sites.hpp"

#include <gtest/gtest.h>

#include "tree_fixture.hpp"

namespace cowtrace::report {
namespace {

using testing::kMs;
using testing::TreeFixture;

TEST(CallSites, AnInlinedCallSiteIsItsCalleeThenTheFunctionsItWasInlinedInto) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t c = f.child(root, 101, 10 * kMs, 20 * kMs, {0xa1, 0xb2});
    f.tree.symbols[{100, 0xa1}] = "spawn (w.c:10)";
    f.tree.symbols_inlined_into[{100, 0xa1}] = {"main (w.c:30)"};
    f.tree.symbols[{100, 0xb2}] = "__libc_start_main (libc.so.6)";
    const model::Process& child = f.tree.processes[c];
    EXPECT_EQ(call_site_text(f.tree, child),
              "spawn (w.c:10) ← main (w.c:30) ← __libc_start_main (libc.so.6)");
    EXPECT_EQ(call_site_text(f.tree, child, 2), "spawn (w.c:10) ← main (w.c:30) ← …");
    EXPECT_EQ(creation_frames(f.tree, child),
              (std::vector<std::string>{"__libc_start_main (libc.so.6)", "main (w.c:30)",
                                        "spawn (w.c:10)"}));
}

TEST(CallSites, AnAddressWithoutSymbolIsItsHexValue) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t c = f.child(root, 101, 10 * kMs, 20 * kMs, {0xa1});
    EXPECT_EQ(frame_labels(f.tree, 100, 0xa1), (std::vector<std::string>{"0xa1"}));
    EXPECT_EQ(call_site_text(f.tree, f.tree.processes[c]), "0xa1");
}

}  // namespace
}  // namespace cowtrace::report

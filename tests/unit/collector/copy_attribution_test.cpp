// The rules that tell a sampled page fault that copied from one that did not
// (tools/collector/copy_attribution.hpp), against hand-made episodes.
#include "collector/copy_attribution.hpp"

#include <gtest/gtest.h>

namespace cowtrace::collector {
namespace {

constexpr uint64_t kPage = 4096;
constexpr pid_t kParent = 100;
constexpr pid_t kChild = 101;

CopyAttribution episode() {
    CopyAttribution a(kParent, kChild, /*fork_t_ns=*/1000);
    // Pages 0x10000-0x14000 and 0x20000 were shared at fork.
    a.set_fork_pages({{0x10000, 0x14000}, {0x20000, 0x21000}});
    return a;
}

TEST(CopyAttribution, TheFirstFaultOnASharedPageIsACopyByItsSide) {
    CopyAttribution a = episode();
    a.add(kParent, 2000, 0x10000 + 8, 31, /*path=*/7);
    a.add(kChild, 2100, 0x11000, 31, 8);
    CopyAttribution::Result r = a.classify();
    ASSERT_EQ(r.copies.size(), 2u);
    EXPECT_EQ(r.copy_samples, 2u);
    EXPECT_EQ(r.copy_faults, 62u);
    for (const auto& p : r.copies) {
        EXPECT_EQ(p.side, p.path == 7 ? FaultSide::kParent : FaultSide::kChild);
        EXPECT_EQ(p.faults, 31u);
    }
}

TEST(CopyAttribution, TheOtherSidesLaterFaultOnTheSamePageReusesIt) {
    CopyAttribution a = episode();
    // Out of order as per-CPU rings deliver them: the child's fault came first.
    a.add(kParent, 3000, 0x12000, 1, 1);
    a.add(kChild, 2500, 0x12008, 1, 2);
    CopyAttribution::Result r = a.classify();
    ASSERT_EQ(r.copies.size(), 1u);
    EXPECT_EQ(r.copies[0].side, FaultSide::kChild);
    EXPECT_EQ(r.repeat_samples, 1u);
}

TEST(CopyAttribution, FaultsOnPagesNotSharedAtForkAreNewPages) {
    CopyAttribution a = episode();
    a.add(kParent, 2000, 0x14000, 1, 1);  // just past the first run
    a.add(kChild, 2000, 0x30000, 1, 1);
    a.add(kParent, 2000, 0x20fff, 1, 1);  // the last byte of the second run: shared
    CopyAttribution::Result r = a.classify();
    EXPECT_EQ(r.new_page_samples, 2u);
    EXPECT_EQ(r.copy_samples, 1u);
}

TEST(CopyAttribution, OtherProcessesAndFaultsBeforeTheForkAreNotCounted) {
    CopyAttribution a = episode();
    a.add(999, 2000, 0x10000, 1, 1);     // a grandchild the parent's events followed
    a.add(kParent, 999, 0x10000, 1, 1);  // before this fork (events opened for an earlier one)
    EXPECT_EQ(a.classify().samples, 0u);
}

TEST(CopyAttribution, PathsComeLargestFirst) {
    CopyAttribution a = episode();
    for (uint64_t i = 0; i < 3; ++i) a.add(kParent, 2000 + i, 0x10000 + i * kPage, 10, 1);
    a.add(kParent, 2100, 0x13000, 10, 2);
    CopyAttribution::Result r = a.classify();
    ASSERT_EQ(r.copies.size(), 2u);
    EXPECT_EQ(r.copies[0].path, 1u);
    EXPECT_EQ(r.copies[0].faults, 30u);
    EXPECT_EQ(r.copies[1].path, 2u);
}

}  // namespace
}  // namespace cowtrace::collector

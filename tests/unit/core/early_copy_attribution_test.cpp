// Copies already made when the baseline was read (between fork() returning and the child's
// baseline) carry no sign of who made them. They are given to the child where it writes on its
// way out of fork() — near its stack and thread pointers, and loaded objects' data and .bss —
// and to the parent elsewhere (ARCHITECTURE.md, "Measuring copy-on-write").
#include <gtest/gtest.h>

#include <string>

#include "core/cow_census.hpp"
#include "core/proc_maps.hpp"
#include "pagemap_entries.hpp"

namespace cowtrace {
namespace {

using namespace testing;  // pagemap_entries.hpp

constexpr uint64_t kWindow = 64 * 1024;  // around the stack pointer, and below the thread pointer
constexpr uint64_t kPage = 4096;

// A child's /proc/<pid>/maps as read while it waits in our fork wrapper.
const std::string kChildMaps =
    "55d0c6a00000-55d0c6a02000 r--p 00000000 08:01 1234       /usr/bin/app\n"
    "55d0c6a02000-55d0c6a05000 r-xp 00002000 08:01 1234       /usr/bin/app\n"
    "55d0c6a05000-55d0c6a06000 r--p 00005000 08:01 1234       /usr/bin/app\n"
    "55d0c6a06000-55d0c6a07000 rw-p 00006000 08:01 1234       /usr/bin/app\n"
    "55d0c6a07000-55d0c6a09000 rw-p 00000000 00:00 0 \n"
    "55d0c7000000-55d0c7100000 rw-p 00000000 00:00 0          [heap]\n"
    "55d0c7100000-55d0c7101000 rw-p 00000000 00:00 0 \n"
    "7f1a2c000000-7f1a2c400000 rw-p 00000000 00:00 0 \n"
    "7f1a2c5f0000-7f1a2c600000 rw-s 00000000 00:05 77         /dev/shm/ring\n"
    "7f1a2c600000-7f1a2c628000 r--p 00000000 08:01 99         /usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f1a2c628000-7f1a2c7bd000 r-xp 00028000 08:01 99         /usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f1a2c7bd000-7f1a2c815000 r--p 001bd000 08:01 99         /usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f1a2c815000-7f1a2c819000 r--p 00214000 08:01 99         /usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f1a2c819000-7f1a2c81b000 rw-p 00218000 08:01 99         /usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f1a2c81b000-7f1a2c828000 rw-p 00000000 00:00 0 \n"
    "7f1a2c840000-7f1a2c841000 rw-p 00010000 08:01 120        /usr/lib/x86_64-linux-gnu/libm.so.6\n"
    "7f1a2c842000-7f1a2c844000 rw-p 00000000 00:00 0 \n"
    "7f1a2c900000-7f1a2c903000 rw-p 00000000 00:00 0 \n"
    "7ffd1a000000-7ffd1a021000 rw-p 00000000 00:00 0          [stack]\n"
    "7ffd1a0f0000-7ffd1a0f4000 r--p 00000000 00:00 0          [vvar]\n"
    "7ffd1a0f4000-7ffd1a0f6000 r-xp 00000000 00:00 0          [vdso]\n";

constexpr uint64_t kAppData = 0x55d0c6a06000;
constexpr uint64_t kAppBss = 0x55d0c6a07000;
constexpr uint64_t kAppBssEnd = 0x55d0c6a09000;
constexpr uint64_t kHeap = 0x55d0c7000000;
constexpr uint64_t kAfterHeap = 0x55d0c7100000;
constexpr uint64_t kArena = 0x7f1a2c000000;
constexpr uint64_t kSharedRing = 0x7f1a2c5f0000;
constexpr uint64_t kLibcText = 0x7f1a2c628000;
constexpr uint64_t kLibcRelro = 0x7f1a2c815000;
constexpr uint64_t kLibcData = 0x7f1a2c819000;
constexpr uint64_t kLibcBss = 0x7f1a2c81b000;
constexpr uint64_t kAfterLibmGap = 0x7f1a2c842000;
constexpr uint64_t kTlsBlock = 0x7f1a2c902000;
constexpr uint64_t kStackBottom = 0x7ffd1a000000;
constexpr uint64_t kStackPointer = 0x7ffd1a01f000;

ChildWriteAreas areas_of(const std::string& maps, const ChildWriteHints& hints) {
    return child_write_areas(parse_maps(maps), hints);
}

ChildWriteAreas child_areas() {
    return areas_of(kChildMaps, ChildWriteHints{kStackPointer, kTlsBlock});
}

TEST(ChildWriteAreas, StackWithinAWindowAroundTheStackPointerIsTheChilds) {
    ChildWriteAreas areas = areas_of("", ChildWriteHints{kStackPointer, 0});
    EXPECT_TRUE(areas.contains(kStackPointer));
    EXPECT_TRUE(areas.contains(kStackPointer - kWindow));
    EXPECT_TRUE(areas.contains(kStackPointer + kWindow - 1));
    EXPECT_FALSE(areas.contains(kStackPointer + kWindow));
    EXPECT_FALSE(areas.contains(kStackPointer - kWindow - 1));
}

TEST(ChildWriteAreas, TlsBelowAndJustAboveTheThreadPointerIsTheChilds) {
    // The TLS block lies below the thread pointer (x86-64 variant II), the TCB at and above it.
    ChildWriteAreas areas = areas_of("", ChildWriteHints{0, kTlsBlock});
    EXPECT_TRUE(areas.contains(kTlsBlock - kWindow));
    EXPECT_TRUE(areas.contains(kTlsBlock));
    EXPECT_TRUE(areas.contains(kTlsBlock + 2 * kPage - 1));
    EXPECT_FALSE(areas.contains(kTlsBlock + 2 * kPage));
    EXPECT_FALSE(areas.contains(kTlsBlock - kWindow - 1));
}

TEST(ChildWriteAreas, NoHintsAndNoMappingsNameNoArea) {
    ChildWriteAreas areas = areas_of("", ChildWriteHints{});
    EXPECT_TRUE(areas.ranges.empty());
    EXPECT_FALSE(areas.contains(0));
    EXPECT_FALSE(areas.contains(kWindow - 1));
}

TEST(ChildWriteAreas, LoadedObjectsWritableDataIsTheChilds) {
    ChildWriteAreas areas = child_areas();
    EXPECT_TRUE(areas.contains(kAppData));
    EXPECT_TRUE(areas.contains(kLibcData));
    EXPECT_TRUE(areas.contains(kLibcData + kPage));
}

TEST(ChildWriteAreas, AnonymousMemoryRightAfterAnObjectsDataIsItsBssAndTheChilds) {
    ChildWriteAreas areas = child_areas();
    EXPECT_TRUE(areas.contains(kAppBss));
    EXPECT_TRUE(areas.contains(kAppBssEnd - 1));
    EXPECT_TRUE(areas.contains(kLibcBss));
}

TEST(ChildWriteAreas, ObjectsReadOnlyMappingsAreNotTheChilds) {
    ChildWriteAreas areas = child_areas();
    EXPECT_FALSE(areas.contains(kLibcText));
    EXPECT_FALSE(areas.contains(kLibcRelro));
}

TEST(ChildWriteAreas, SharedFileMappingIsNotTheChilds) {
    EXPECT_FALSE(child_areas().contains(kSharedRing));
}

TEST(ChildWriteAreas, HeapArenasAndDeepStackAreNotTheChilds) {
    ChildWriteAreas areas = child_areas();
    EXPECT_FALSE(areas.contains(kHeap));
    EXPECT_FALSE(areas.contains(kArena));
    EXPECT_FALSE(areas.contains(kStackBottom));
}

TEST(ChildWriteAreas, AnonymousMemoryAfterAGapOrAfterTheHeapIsNoBss) {
    ChildWriteAreas areas = child_areas();
    EXPECT_FALSE(areas.contains(kAfterLibmGap));
    EXPECT_FALSE(areas.contains(kAfterHeap));
}

// What the census makes of a page already copied when the baseline was read, at address.
PageFate early_copy_at(const ChildWriteAreas& areas, uint64_t address) {
    return classify_exact(anon_alone_at(kChildCopyFrame), anon_alone_at(kForkFrame),
                          anon_alone_at(kChildCopyFrame), anon_alone_at(kForkFrame), kZeroFrame,
                          areas.contains(address));
}

TEST(EarlyCopyAttribution, CopyOnTheChildsStackIsTheChilds) {
    EXPECT_EQ(early_copy_at(child_areas(), kStackPointer - kPage), PageFate::kCopiedByChild);
}

TEST(EarlyCopyAttribution, CopyInTheChildsTlsIsTheChilds) {
    EXPECT_EQ(early_copy_at(child_areas(), kTlsBlock), PageFate::kCopiedByChild);
}

TEST(EarlyCopyAttribution, CopyInLibcsDataOrBssIsTheChilds) {
    EXPECT_EQ(early_copy_at(child_areas(), kLibcData), PageFate::kCopiedByChild);
    EXPECT_EQ(early_copy_at(child_areas(), kLibcBss), PageFate::kCopiedByChild);
}

TEST(EarlyCopyAttribution, CopyInTheHeapOrAnArenaIsTheParents) {
    EXPECT_EQ(early_copy_at(child_areas(), kHeap), PageFate::kCopiedByParent);
    EXPECT_EQ(early_copy_at(child_areas(), kArena), PageFate::kCopiedByParent);
}

TEST(EarlyCopyAttribution, UnderWayAtAnAttachAnEarlyCopyHasNoSide) {
    // The baseline read long after the fork: its place says nothing about who copied.
    for (bool child_likely : {false, true}) {
        EXPECT_EQ(classify_exact(anon_alone_at(kChildCopyFrame), anon_alone_at(kForkFrame),
                                 anon_alone_at(kChildCopyFrame), anon_alone_at(kForkFrame),
                                 kZeroFrame, child_likely, true),
                  PageFate::kCopied);
    }
}

}  // namespace
}  // namespace cowtrace

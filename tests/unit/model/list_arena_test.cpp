// Lists kept back to back in one arena and found by a ListRef (32-bit offset and count): a list
// reads back as it was kept while more are kept after it (and the arena's storage moves), when the
// arena is moved, and once its unused end is given back.
#include "model/list_arena.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace cowtrace::model {
namespace {

TEST(ListRef, IsEightBytesAlignedToFourToPackBeside32BitFields) {
    EXPECT_EQ(sizeof(ListRef<uint64_t>), 8u);
    EXPECT_EQ(alignof(ListRef<uint64_t>), 4u);
}

TEST(ListArena, AListKeptReadsBackAsMoreAreKeptAndWhenTheArenaIsMoved) {
    ListArena<uint64_t> arena;
    std::vector<ListRef<uint64_t>> refs;
    for (uint64_t i = 0; i < 20000; ++i) {
        std::vector<uint64_t> items(i % 5, i);  // some empty, some several
        refs.push_back(arena.keep(items));
    }
    ListArena<uint64_t> moved = std::move(arena);
    for (uint64_t i = 0; i < refs.size(); ++i) {
        ASSERT_EQ(refs[i].size(), i % 5);
        std::span<const uint64_t> list = moved.list(refs[i]);
        ASSERT_EQ(list.size(), i % 5);
        for (uint64_t x : list) ASSERT_EQ(x, i);
    }
}

TEST(ListArena, AnEmptyListTakesNoRoomAndReadsBackEmpty) {
    ListArena<uint64_t> arena;
    arena.keep({1, 2});
    ListRef<uint64_t> none = arena.keep(std::span<const uint64_t>());
    EXPECT_TRUE(none.empty());
    EXPECT_TRUE(arena.list(none).empty());
    EXPECT_TRUE(arena.list(ListRef<uint64_t>{}).empty());
    EXPECT_EQ(arena.size(), 2u);
}

TEST(ListArena, ListsAreKeptBackToBackAndReadBackAfterTheUnusedEndIsGivenBack) {
    ListArena<uint64_t> arena;
    arena.reserve(10);
    ListRef<uint64_t> first = arena.keep({1, 2, 3});
    std::vector<uint64_t> seven(7, 4);
    ListRef<uint64_t> second = arena.keep(seven);
    EXPECT_EQ(second.first, first.first + first.count) << "no gap between lists";
    ListRef<uint64_t> beyond = arena.keep({5});
    arena.shrink_to_fit();
    EXPECT_EQ(arena.list(first)[0], 1u);
    EXPECT_EQ(arena.list(first)[2], 3u);
    EXPECT_EQ(arena.list(second).back(), 4u);
    EXPECT_EQ(arena.list(beyond)[0], 5u);
    EXPECT_EQ(arena.size(), 11u);
}

}  // namespace
}  // namespace cowtrace::model

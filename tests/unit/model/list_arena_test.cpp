// Episodes' samples and regions as spans into a few blocks: a list kept stays where it is while
// more are kept, and when the arena (with its tree) is moved.
#include "model/list_arena.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace cowtrace::model {
namespace {

TEST(ListArena, AListKeptStaysWhereItIsAsMoreAreKeptAndWhenMoved) {
    ListArena<uint64_t> arena;
    std::vector<std::span<const uint64_t>> lists;
    for (uint64_t i = 0; i < 20000; ++i) {
        std::vector<uint64_t> items(i % 5, i);  // some empty, some several
        lists.push_back(arena.keep(items));
    }
    ListArena<uint64_t> moved = std::move(arena);
    for (uint64_t i = 0; i < lists.size(); ++i) {
        ASSERT_EQ(lists[i].size(), i % 5);
        for (uint64_t x : lists[i]) ASSERT_EQ(x, i);
    }
}

TEST(ListArena, AListLargerThanABlockIsKeptWhole) {
    ListArena<uint64_t> arena;
    std::vector<uint64_t> many(1 << 20, 7);
    std::span<const uint64_t> kept = arena.keep(many);
    ASSERT_EQ(kept.size(), many.size());
    EXPECT_EQ(kept.back(), 7u);
}

TEST(ListArena, ListsOfAReservedTotalAreKeptBackToBackAndMoreStillFit) {
    ListArena<uint64_t> arena;
    arena.reserve(10);
    std::span<const uint64_t> first = arena.keep({1, 2, 3});
    std::vector<uint64_t> seven(7, 4);
    std::span<const uint64_t> second = arena.keep(seven);
    EXPECT_EQ(second.data(), first.data() + first.size()) << "one block, no end left unused";
    std::span<const uint64_t> beyond = arena.keep({5});
    EXPECT_EQ(first[0], 1u);
    EXPECT_EQ(second.back(), 4u);
    EXPECT_EQ(beyond[0], 5u);
}

}  // namespace
}  // namespace cowtrace::model

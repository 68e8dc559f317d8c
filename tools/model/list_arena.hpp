// Many short lists that never change once made (an episode's samples, its regions), kept in a
// few large blocks: a list is a span into a block. As a vector each, 100,000 episodes cost
// 24 bytes a list and an allocation (with its malloc header and rounding) per list (issue 15).
// A block is reserved, never grown, so what it holds never moves: the spans stay valid for the
// arena's life, also when the arena (and the tree holding it) is moved. It cannot be copied: a
// copy's lists would still be spans into the original.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <vector>

namespace cowtrace::model {

template <class T>
class ListArena {
public:
    ListArena() = default;
    ListArena(const ListArena&) = delete;
    ListArena& operator=(const ListArena&) = delete;
    ListArena(ListArena&&) noexcept = default;
    ListArena& operator=(ListArena&&) noexcept = default;

    // A copy of items, kept until the arena ends; empty for none (no block then).
    std::span<const T> keep(std::span<const T> items) {
        if (items.empty()) return {};
        if (blocks_.empty() || blocks_.back().capacity() - blocks_.back().size() < items.size()) {
            // Doubling from a few items to about 256 KiB: a small tree keeps little, a large one
            // loses at most the unused end of each block (an untouched reservation costs no page).
            size_t room = blocks_.empty() ? kFirstBlock
                                          : std::min(blocks_.back().capacity() * 2, kLargestBlock);
            blocks_.emplace_back().reserve(std::max(room, items.size()));
        }
        std::vector<T>& block = blocks_.back();
        size_t first = block.size();
        block.insert(block.end(), items.begin(), items.end());  // within capacity: nothing moves
        return {block.data() + first, items.size()};
    }
    std::span<const T> keep(std::initializer_list<T> items) {
        return keep(std::span<const T>(items.begin(), items.size()));
    }
    // For lists whose total is known before they are kept (those made at the end of the build):
    // one block of that many items, no unused end (at 10,000 processes the ends of doubled
    // blocks were a tenth of what the lists held).
    void reserve(size_t items) {
        if (items > 0 && blocks_.empty()) blocks_.emplace_back().reserve(items);
    }

private:
    static constexpr size_t kFirstBlock = 16;
    static constexpr size_t kLargestBlock = std::max<size_t>(kFirstBlock, (256 << 10) / sizeof(T));

    std::vector<std::vector<T>> blocks_;
};

}  // namespace cowtrace::model

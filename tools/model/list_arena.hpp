// Many short lists that never change once made (an episode's samples, its regions, a process's
// execs), kept back to back in one list of the tree: a model type holds where its list is, a
// ListRef, and asks the tree for it. As a vector each, 100,000 episodes cost 24 bytes a list and
// an allocation (with its malloc header and rounding) per list; as a std::span 16 bytes; as 32-bit
// offset and count 8 (issue 15).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <stdexcept>
#include <vector>

namespace cowtrace::model {

// Where one list is in its ListArena: 8 bytes, aligned to 4, so that it packs beside a struct's
// 32-bit fields. Means nothing without its arena.
template <class T>
struct ListRef {
    uint32_t first = 0;
    uint32_t count = 0;

    bool empty() const { return count == 0; }
    size_t size() const { return count; }
};

template <class T>
class ListArena {
public:
    // A copy of items, kept until the arena ends; an empty ref for none. What was kept may move
    // as the arena grows (a ref stays valid, a span from list() does not until the build ends).
    ListRef<T> keep(std::span<const T> items) {
        if (items.empty()) return {};
        // 2^32 items of at least 8 bytes would be 32 GiB of one kind of list: a trace that large
        // cannot be held by the build anyway; refuse it rather than wrap.
        if (items.size() > kMost - items_.size())
            throw std::length_error("cowtrace model: more than 2^32 - 1 items in one list arena");
        ListRef<T> ref{static_cast<uint32_t>(items_.size()), static_cast<uint32_t>(items.size())};
        items_.insert(items_.end(), items.begin(), items.end());
        return ref;
    }
    ListRef<T> keep(std::initializer_list<T> items) {
        return keep(std::span<const T>(items.begin(), items.size()));
    }
    std::span<const T> list(ListRef<T> ref) const {
        return std::span<const T>(items_).subspan(ref.first, ref.count);
    }
    size_t size() const { return items_.size(); }

    // For lists whose total is known before they are kept (those made at the end of the build):
    // room for that many, no unused end.
    void reserve(size_t items) { items_.reserve(items_.size() + items); }
    // When the build ends: the list grew by doubling, and its unused end would stay (at 100,000
    // episodes up to half of their samples' 7 MB).
    void shrink_to_fit() { items_.shrink_to_fit(); }

private:
    static constexpr size_t kMost = std::numeric_limits<uint32_t>::max();

    std::vector<T> items_;
};

}  // namespace cowtrace::model

// A set of pids for the collector's per-record bookkeeping (the tree's processes, the live
// ones): open addressing with linear probing in one flat array, so that inserting, finding and
// erasing a pid allocates nothing and touches one or two cache lines, where std::set allocated a
// node per pid and chased pointers (docs/PERFORMANCE.md, "Collector ingest, batched").
// Erasing shifts the following entries back (no tombstones), so a set that sees millions of
// short-lived pids come and go stays as fast as one that sees few.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace cowtrace::collector {

class PidSet {
public:
    // True when pid was not in the set.
    bool insert(pid_t pid) {
        if (pid == kEmpty) return !std::exchange(has_empty_key_, true);
        if ((size_ + 1) * 4 > slots_.size() * 3) grow();
        size_t i = home(pid);
        while (slots_[i] != kEmpty) {
            if (slots_[i] == pid) return false;
            i = (i + 1) & mask_;
        }
        slots_[i] = pid;
        ++size_;
        return true;
    }

    bool contains(pid_t pid) const {
        if (pid == kEmpty) return has_empty_key_;
        if (slots_.empty()) return false;
        for (size_t i = home(pid); slots_[i] != kEmpty; i = (i + 1) & mask_) {
            if (slots_[i] == pid) return true;
        }
        return false;
    }

    // True when pid was in the set.
    bool erase(pid_t pid) {
        if (pid == kEmpty) return std::exchange(has_empty_key_, false);
        if (slots_.empty()) return false;
        size_t i = home(pid);
        while (slots_[i] != pid) {
            if (slots_[i] == kEmpty) return false;
            i = (i + 1) & mask_;
        }
        // Backward shift: each entry after the hole that may live there (its home is not in
        // the run between the hole and itself) moves into it, so every probe still finds it.
        size_t hole = i;
        for (size_t j = (hole + 1) & mask_; slots_[j] != kEmpty; j = (j + 1) & mask_) {
            size_t want = home(slots_[j]);
            bool stays = hole <= j ? (hole < want && want <= j) : (hole < want || want <= j);
            if (!stays) {
                slots_[hole] = slots_[j];
                hole = j;
            }
        }
        slots_[hole] = kEmpty;
        --size_;
        return true;
    }

    size_t size() const { return size_ + (has_empty_key_ ? 1 : 0); }
    bool empty() const { return size() == 0; }
    void clear() {
        std::fill(slots_.begin(), slots_.end(), kEmpty);
        size_ = 0;
        has_empty_key_ = false;
    }

    // The pids in ascending order (as std::set gave them): what is written or sampled from the
    // whole set does not depend on where the hash put each pid.
    std::vector<pid_t> sorted() const {
        std::vector<pid_t> out;
        out.reserve(size());
        if (has_empty_key_) out.push_back(kEmpty);
        for (pid_t p : slots_) {
            if (p != kEmpty) out.push_back(p);
        }
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    static constexpr pid_t kEmpty = 0;  // no process has pid 0; it is kept aside if asked for

    size_t home(pid_t pid) const {
        // Fibonacci hashing: consecutive pids (the common case) spread over the table.
        uint64_t h = static_cast<uint64_t>(static_cast<uint32_t>(pid)) * 0x9E3779B97F4A7C15ull;
        return static_cast<size_t>(h >> 32) & mask_;
    }

    void grow() {
        std::vector<pid_t> old;
        old.swap(slots_);
        slots_.assign(old.empty() ? 64 : old.size() * 2, kEmpty);
        mask_ = slots_.size() - 1;
        size_ = 0;
        for (pid_t p : old) {
            if (p != kEmpty) insert(p);
        }
    }

    std::vector<pid_t> slots_;  // a power of two long; kEmpty where free
    size_t mask_ = 0;
    size_t size_ = 0;  // pids in slots_
    bool has_empty_key_ = false;
};

}  // namespace cowtrace::collector

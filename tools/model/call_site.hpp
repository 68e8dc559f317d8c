// A creation's call site as the model keeps it: the return addresses in the creator, innermost
// first, one immutable list shared by every process created from the same place. A shell's
// children all come from the same few fork sites: as a vector each, the frames of a bash loop
// (11 of them) took 112 bytes a process, the same every time (issue 15).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <iterator>
#include <span>
#include <vector>

namespace cowtrace::model {

class CallSite {
    struct Storage;

public:
    using const_iterator = const uint64_t*;
    using const_reverse_iterator = std::reverse_iterator<const_iterator>;

    CallSite() = default;  // unknown: no frames
    // A call site of its own, not interned (tests, carried processes): CallSiteTable shares.
    CallSite(std::span<const uint64_t> frames);
    CallSite(const std::vector<uint64_t>& frames)
        : CallSite(std::span<const uint64_t>(frames.data(), frames.size())) {}
    CallSite(std::initializer_list<uint64_t> frames)
        : CallSite(std::span<const uint64_t>(frames.begin(), frames.size())) {}

    CallSite(const CallSite& o) noexcept : s_(o.s_) { retain(); }
    CallSite(CallSite&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
    CallSite& operator=(const CallSite& o) noexcept;
    CallSite& operator=(CallSite&& o) noexcept;
    ~CallSite() { release(); }

    std::span<const uint64_t> frames() const;
    size_t size() const { return frames().size(); }
    bool empty() const { return s_ == nullptr; }
    uint64_t operator[](size_t i) const { return frames()[i]; }
    uint64_t front() const { return frames().front(); }
    uint64_t back() const { return frames().back(); }
    const_iterator begin() const { return frames().data(); }
    const_iterator end() const { return frames().data() + frames().size(); }
    const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
    const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }

    // The same storage: interned call sites are compared by this.
    bool shares_storage_with(const CallSite& o) const { return s_ == o.s_; }

    friend bool operator==(const CallSite& a, const CallSite& b);
    friend bool operator==(const CallSite& a, const std::vector<uint64_t>& b);

private:
    friend class CallSiteTable;
    void retain() const;
    void release();

    Storage* s_ = nullptr;  // null: no frames
};

std::ostream& operator<<(std::ostream& out, const CallSite& site);  // for test messages

// Hands out one CallSite per distinct list of frames, as CommandLineTable does for command
// lines. Lives for the build only; the call sites outlive it.
class CallSiteTable {
public:
    CallSite intern(std::span<const uint64_t> frames);
    size_t size() const { return sites_; }

private:
    // Open addressing with linear probing, at most half full; a slot keeps its site's hash.
    struct Slot {
        size_t hash = 0;
        CallSite site;  // no frames: free
    };
    void grow();

    std::vector<Slot> slots_;
    size_t sites_ = 0;
};

}  // namespace cowtrace::model

#include "call_site.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <ostream>
#include <utility>

namespace cowtrace::model {

// One allocation per distinct call site: this header, then the frames. Renderers may share the
// model across threads: the count is atomic.
// (The header is 8 bytes: the frames behind it are aligned.)
struct CallSite::Storage {
    std::atomic<uint32_t> refs;
    uint32_t count;

    const uint64_t* frames() const { return reinterpret_cast<const uint64_t*>(this + 1); }
    uint64_t* frames() { return reinterpret_cast<uint64_t*>(this + 1); }
};

namespace {

size_t hash_of_frames(std::span<const uint64_t> frames) {
    size_t h = frames.size();
    for (uint64_t ip : frames) h ^= ip * 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

}  // namespace

CallSite::CallSite(std::span<const uint64_t> frames) {
    if (frames.empty()) return;
    void* memory = ::operator new(sizeof(Storage) + frames.size() * sizeof(uint64_t));
    s_ = new (memory) Storage{{1}, static_cast<uint32_t>(frames.size())};
    std::memcpy(s_->frames(), frames.data(), frames.size() * sizeof(uint64_t));
}

CallSite& CallSite::operator=(const CallSite& o) noexcept {
    o.retain();
    release();
    s_ = o.s_;
    return *this;
}

CallSite& CallSite::operator=(CallSite&& o) noexcept {
    if (this != &o) {
        release();
        s_ = o.s_;
        o.s_ = nullptr;
    }
    return *this;
}

void CallSite::retain() const {
    if (s_) s_->refs.fetch_add(1, std::memory_order_relaxed);
}

void CallSite::release() {
    if (s_ && s_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        s_->~Storage();
        ::operator delete(s_);
    }
    s_ = nullptr;
}

std::span<const uint64_t> CallSite::frames() const {
    if (s_ == nullptr) return {};
    return {s_->frames(), s_->count};
}

bool operator==(const CallSite& a, const CallSite& b) {
    if (a.s_ == b.s_) return true;
    std::span<const uint64_t> x = a.frames(), y = b.frames();
    return std::equal(x.begin(), x.end(), y.begin(), y.end());
}

bool operator==(const CallSite& a, const std::vector<uint64_t>& b) {
    std::span<const uint64_t> x = a.frames();
    return std::equal(x.begin(), x.end(), b.begin(), b.end());
}

std::ostream& operator<<(std::ostream& out, const CallSite& site) {
    out << '{';
    for (size_t i = 0; i < site.size(); ++i) out << (i ? ", 0x" : "0x") << std::hex << site[i];
    return out << std::dec << '}';
}

CallSite CallSiteTable::intern(std::span<const uint64_t> frames) {
    if (frames.empty()) return {};
    if (2 * (sites_ + 1) > slots_.size()) grow();
    size_t hash = hash_of_frames(frames);
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        Slot& slot = slots_[i];
        if (slot.site.empty()) {
            slot.hash = hash;
            slot.site = CallSite(frames);
            ++sites_;
            return slot.site;
        }
        std::span<const uint64_t> held = slot.site.frames();
        if (slot.hash == hash && std::equal(held.begin(), held.end(), frames.begin(), frames.end()))
            return slot.site;
    }
}

void CallSiteTable::grow() {
    std::vector<Slot> old =
        std::exchange(slots_, std::vector<Slot>(std::max<size_t>(64, 2 * slots_.size())));
    size_t mask = slots_.size() - 1;
    for (Slot& s : old) {
        if (s.site.empty()) continue;
        size_t i = s.hash & mask;
        while (!slots_[i].site.empty()) i = (i + 1) & mask;
        slots_[i] = std::move(s);
    }
}

}  // namespace cowtrace::model

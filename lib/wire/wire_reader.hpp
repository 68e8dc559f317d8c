// Decodes the fields of one record. Every read is bounds-checked: a field past the end of the
// record reads as its default and sets exhausted(), which is how appended fields stay optional.
// Tools only (uses std::string_view; never runs in a host process).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "record.hpp"

namespace cowtrace::wire {

class WireReader {
public:
    WireReader(const uint8_t* data, size_t size) : p_(data), n_(size) {}

    uint8_t u8(uint8_t dflt = 0) { return get<uint8_t>(dflt); }
    uint16_t u16(uint16_t dflt = 0) { return get<uint16_t>(dflt); }
    uint32_t u32(uint32_t dflt = 0) { return get<uint32_t>(dflt); }
    int32_t i32(int32_t dflt = 0) { return get<int32_t>(dflt); }
    uint64_t u64(uint64_t dflt = 0) { return get<uint64_t>(dflt); }
    int64_t i64(int64_t dflt = 0) { return get<int64_t>(dflt); }

    std::string_view str() {
        uint16_t len = u16();
        if (exhausted_ || len > n_ - pos_) {
            malformed_ = malformed_ || !exhausted_;
            exhausted_ = true;
            return {};
        }
        std::string_view s(reinterpret_cast<const char*>(p_ + pos_), len);
        pos_ += len;
        return s;
    }

    // Calls f(string_view) for each string of a list; returns the "truncated" flag.
    template <class F>
    bool strlist(F&& f) {
        uint16_t count = u16();
        for (uint16_t i = 0; i < count && !exhausted_; ++i) {
            std::string_view s = str();
            if (!exhausted_) f(s);
        }
        return u8() != 0;
    }

    template <class F>
    void u64list(F&& f) {
        uint16_t count = u16();
        if (static_cast<size_t>(count) * 8 > n_ - pos_) {
            malformed_ = true;
            exhausted_ = true;
            return;
        }
        for (uint16_t i = 0; i < count; ++i) f(u64());
    }

    bool exhausted() const { return exhausted_; }
    // A length inside the record pointed past its end (not merely a missing trailing field).
    bool malformed() const { return malformed_; }
    size_t position() const { return pos_; }
    const uint8_t* data() const { return p_; }
    size_t size() const { return n_; }
    // The next n bytes (advancing past them), or nullptr when fewer are left (then malformed).
    const uint8_t* take(size_t n) {
        if (exhausted_ || n > n_ - pos_) {
            fail();
            return nullptr;
        }
        const uint8_t* at = p_ + pos_;
        pos_ += n;
        return at;
    }
    // Marks the rest of the record unreadable (a count that cannot be right).
    void fail() {
        malformed_ = true;
        exhausted_ = true;
    }

private:
    template <class T>
    T get(T dflt) {
        if (exhausted_ || sizeof(T) > n_ - pos_) {
            if (!exhausted_ && pos_ != n_) malformed_ = true;  // a field cut in half
            exhausted_ = true;
            return dflt;
        }
        T v;
        memcpy(&v, p_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    const uint8_t* p_;
    size_t n_;
    size_t pos_ = 0;
    bool exhausted_ = false;
    bool malformed_ = false;
};

}  // namespace cowtrace::wire

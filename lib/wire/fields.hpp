// The field types a record is made of, beyond plain integers and enums. Each one either borrows
// the sender's data (encoding: a C string, a NULL-terminated array, a stack buffer) or points into
// the record it was decoded from (decoding: nothing is copied, nothing is allocated). The same
// record struct therefore serves the shim, which must not allocate, and the tools.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "wire_reader.hpp"

namespace cowtrace::wire {

// str: u16 length, then the bytes (no terminator).
struct Text {
    const char* data = nullptr;
    size_t size = 0;

    constexpr Text() = default;
    Text(const char* s) : data(s), size(s != nullptr ? strlen(s) : 0) {}  // NOLINT: implicit
    constexpr Text(const char* s, size_t n) : data(s), size(n) {}
    // From anything with data() and size() (std::string, std::string_view): borrowed, so the
    // string must outlive the record.
    template <class S>
    requires requires(const S& s) {
        { s.data() } -> std::convertible_to<const char*>;
        { s.size() } -> std::convertible_to<size_t>;
    }
    constexpr Text(const S& s) : data(s.data()), size(s.size()) {}  // NOLINT: implicit

    std::string_view view() const { return data != nullptr ? std::string_view(data, size) : ""; }
    bool empty() const { return size == 0; }
};

// strlist: u16 count, that many str, then u8 "truncated".
class TextList {
public:
    constexpr TextList() = default;
    // A NULL-terminated array of C strings (argv, a built list).
    static TextList of_array(const char* const* items) {
        TextList l;
        l.source_ = Source::kArray;
        l.items_ = items;
        return l;
    }
    // NUL-separated strings, as in /proc/self/cmdline.
    static TextList of_nul_separated(const char* blob, size_t size) {
        TextList l;
        l.source_ = Source::kNulSeparated;
        l.blob_ = blob;
        l.size_ = size;
        return l;
    }
    // A decoded list: count strings encoded back to back at bytes (u16 length + text each).
    static TextList of_encoded(const uint8_t* bytes, size_t size, size_t count, bool truncated) {
        TextList l;
        l.source_ = Source::kEncoded;
        l.encoded_ = bytes;
        l.size_ = size;
        l.count_ = count;
        l.truncated_ = truncated;
        return l;
    }

    // Calls f(std::string_view) for each string; returns the "truncated" flag.
    template <class F>
    bool for_each(F&& f) const {
        switch (source_) {
            case Source::kNone:
                return false;
            case Source::kArray:
                for (size_t i = 0; items_ != nullptr && items_[i] != nullptr; ++i)
                    f(std::string_view(items_[i]));
                return false;
            case Source::kNulSeparated:
                for (size_t i = 0; i < size_;) {
                    size_t n = strnlen(blob_ + i, size_ - i);
                    f(std::string_view(blob_ + i, n));
                    i += n + 1;
                }
                return false;
            case Source::kEncoded: {
                WireReader r(encoded_, size_);
                for (size_t i = 0; i < count_; ++i) f(r.str());
                return truncated_;
            }
        }
        return false;
    }
    bool truncated() const { return source_ == Source::kEncoded && truncated_; }

    enum class Source : uint8_t { kNone, kArray, kNulSeparated, kEncoded };
    Source source() const { return source_; }
    const char* const* items() const { return items_; }
    const char* blob() const { return blob_; }
    size_t blob_size() const { return size_; }  // also the encoded strings' size
    const uint8_t* encoded() const { return encoded_; }
    size_t count() const { return count_; }  // of a decoded list

private:
    Source source_ = Source::kNone;
    const char* const* items_ = nullptr;
    const char* blob_ = nullptr;
    const uint8_t* encoded_ = nullptr;
    size_t size_ = 0;
    size_t count_ = 0;
    bool truncated_ = false;
};

// A list of fixed-size numbers: u16 count, then the values (u64list: call-site frames; i32 pids).
template <class T>
class NumberList {
public:
    constexpr NumberList() = default;
    constexpr NumberList(const T* values, size_t count) : values_(values), count_(count) {}
    static NumberList of_encoded(const uint8_t* bytes, size_t count) {
        NumberList l;
        l.encoded_ = bytes;
        l.count_ = count;
        return l;
    }

    size_t size() const { return count_; }
    T operator[](size_t i) const {
        if (encoded_ == nullptr) return values_[i];
        T v;
        memcpy(&v, encoded_ + i * sizeof(T), sizeof(T));
        return v;
    }
    template <class F>
    void for_each(F&& f) const {
        for (size_t i = 0; i < count_; ++i) f((*this)[i]);
    }

private:
    const T* values_ = nullptr;
    const uint8_t* encoded_ = nullptr;  // decoded: the values in the record, maybe unaligned
    size_t count_ = 0;
};

using U64List = NumberList<uint64_t>;
using I32List = NumberList<int32_t>;

// A counted list of sub-records (Item has its own fields()): Count, then each item's fields.
template <class Item, class Count>
class ItemList {
public:
    constexpr ItemList() = default;
    constexpr ItemList(const Item* items, size_t count) : items_(items), count_(count) {}
    static ItemList of_encoded(const uint8_t* bytes, size_t size, size_t count) {
        ItemList l;
        l.encoded_ = bytes;
        l.encoded_size_ = size;
        l.count_ = count;
        return l;
    }

    size_t size() const { return count_; }
    // Calls f(const Item&) for each item (decoded items point into the record).
    template <class F>
    void for_each(F&& f) const;

    const Item* items() const { return items_; }
    using CountType = Count;

private:
    const Item* items_ = nullptr;
    const uint8_t* encoded_ = nullptr;
    size_t encoded_size_ = 0;
    size_t count_ = 0;
};

}  // namespace cowtrace::wire

// Encoding and decoding of a record's fields, driven by the record's own fields() list: the
// order of the fields is written once, in the record's struct (shim_records.hpp,
// collector_records.hpp), and these visitors turn it into bytes and back.
//
// Encoding allocates nothing and never throws (the shim encodes in vfork children). Decoding
// copies nothing: text and lists point into the payload, which must outlive the record struct.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "fields.hpp"
#include "record.hpp"
#include "wire_reader.hpp"
#include "wire_writer.hpp"

namespace cowtrace::wire {

template <class T>
concept FixedField = std::is_integral_v<T> || std::is_enum_v<T>;

class FieldEncoder {
public:
    explicit FieldEncoder(WireWriter& w) : w_(w) {}

    template <FixedField T>
    void operator()(const T& v) {
        if constexpr (std::is_enum_v<T>) {
            (*this)(static_cast<std::underlying_type_t<T>>(v));
        } else if constexpr (std::is_same_v<T, bool>) {
            w_.u8(v ? 1 : 0);
        } else {
            static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8);
            if constexpr (sizeof(T) == 1) w_.u8(static_cast<uint8_t>(v));
            if constexpr (sizeof(T) == 2) w_.u16(static_cast<uint16_t>(v));
            if constexpr (sizeof(T) == 4) w_.u32(static_cast<uint32_t>(v));
            if constexpr (sizeof(T) == 8) w_.u64(static_cast<uint64_t>(v));
        }
    }

    void operator()(const Text& t, size_t max_len = 0xffff) { w_.str(t.data, t.size, max_len); }

    void operator()(const TextList& l, size_t budget) {
        switch (l.source()) {
            case TextList::Source::kArray:
                w_.strlist(l.items(), budget);
                return;
            case TextList::Source::kNulSeparated:
                w_.nul_separated(l.blob(), l.blob_size(), budget);
                return;
            case TextList::Source::kNone:
                w_.strlist(nullptr, budget);
                return;
            case TextList::Source::kEncoded: {
                // Re-encoding a decoded list (tests, tools copying a record).
                WireReader r(l.encoded(), l.blob_size());
                size_t i = 0;
                w_.strlist_of(
                    [&](const char*& s, size_t& len) {
                        if (i == l.count()) return false;
                        ++i;
                        std::string_view v = r.str();
                        s = v.data();
                        len = v.size();
                        return true;
                    },
                    budget, l.truncated());
                return;
            }
        }
    }

    template <class T>
    void operator()(const NumberList<T>& l) {
        size_t n = l.size() > 0xffff ? 0xffff : l.size();
        w_.u16(static_cast<uint16_t>(n));
        for (size_t i = 0; i < n; ++i) (*this)(l[i]);
    }

    template <class Item, class Count>
    void operator()(const ItemList<Item, Count>& l) {
        (*this)(static_cast<Count>(l.size()));
        l.for_each([&](const Item& item) { Item::fields(item, *this); });
    }

private:
    WireWriter& w_;
};

class FieldDecoder {
public:
    explicit FieldDecoder(WireReader& r) : r_(r) {}

    // A field missing at the end of the record keeps the value it had (its default).
    template <FixedField T>
    void operator()(T& v) {
        if constexpr (std::is_enum_v<T>) {
            auto raw = static_cast<std::underlying_type_t<T>>(v);
            (*this)(raw);
            v = static_cast<T>(raw);
        } else if constexpr (std::is_same_v<T, bool>) {
            v = r_.u8(v ? 1 : 0) != 0;
        } else if constexpr (sizeof(T) == 1) {
            v = static_cast<T>(r_.u8(static_cast<uint8_t>(v)));
        } else if constexpr (sizeof(T) == 2) {
            v = static_cast<T>(r_.u16(static_cast<uint16_t>(v)));
        } else if constexpr (sizeof(T) == 4) {
            v = static_cast<T>(r_.u32(static_cast<uint32_t>(v)));
        } else {
            v = static_cast<T>(r_.u64(static_cast<uint64_t>(v)));
        }
    }

    void operator()(Text& t, size_t = 0) {
        std::string_view s = r_.str();
        if (!r_.exhausted()) t = Text(s);
    }

    // A list cut short by the end of the record keeps its whole strings.
    void operator()(TextList& l, size_t = 0) {
        if (r_.exhausted()) return;
        uint16_t count = r_.u16();
        if (r_.exhausted()) return;
        size_t start = r_.position(), end = start, whole = 0;
        for (uint16_t i = 0; i < count; ++i) {
            r_.str();
            if (r_.exhausted()) break;
            end = r_.position();
            ++whole;
        }
        bool truncated = r_.u8() != 0;
        l = TextList::of_encoded(r_.data() + start, end - start, whole, truncated);
    }

    // A list cut short by the end of the record keeps its whole values.
    template <class T>
    void operator()(NumberList<T>& l) {
        if (r_.exhausted()) return;
        uint16_t count = r_.u16();
        if (r_.exhausted()) return;
        size_t whole = (r_.size() - r_.position()) / sizeof(T);
        if (whole >= count) {
            whole = count;
        } else {
            r_.fail();  // the list claims more than the record holds
        }
        l = NumberList<T>::of_encoded(r_.data() + r_.position(), whole);
        if (whole == count) r_.take(whole * sizeof(T));
    }

    template <class Item, class Count>
    void operator()(ItemList<Item, Count>& l) {
        if (r_.exhausted()) return;
        Count count = 0;
        (*this)(count);
        size_t start = r_.position();
        size_t whole = 0, end = start;
        for (Count i = 0; i < count && !r_.exhausted(); ++i) {
            Item item;
            Item::fields(item, *this);
            if (r_.exhausted()) break;  // cut short: only whole items count
            end = r_.position();
            ++whole;
        }
        l = ItemList<Item, Count>::of_encoded(r_.data() + start, end - start, whole);
    }

private:
    WireReader& r_;
};

template <class Item, class Count>
template <class F>
void ItemList<Item, Count>::for_each(F&& f) const {
    if (encoded_ == nullptr) {
        for (size_t i = 0; i < count_; ++i) f(items_[i]);
        return;
    }
    WireReader r(encoded_, encoded_size_);
    FieldDecoder decoder(r);
    for (size_t i = 0; i < count_; ++i) {
        Item item;
        Item::fields(item, decoder);
        f(static_cast<const Item&>(item));
    }
}

// What the header says besides the type and size.
struct RecordStamp {
    uint16_t flags = 0;
    int32_t pid = 0;
    int32_t tid = 0;
    uint64_t t_ns = 0;
    uint32_t seq = 0;
};

// Encodes record (header included) into buf; returns its size, or 0 if a fixed field did not fit.
template <class R>
size_t encode_record(const R& record, const RecordStamp& stamp, void* buf, size_t capacity) {
    WireWriter w(buf, capacity);
    FieldEncoder encoder(w);
    R::fields(record, encoder);
    return w.finish(R::kType, stamp.flags, stamp.pid, stamp.tid, stamp.t_ns, stamp.seq);
}

// Decodes a payload into record: the fields the payload holds, in order; the others keep their
// defaults (fields are only ever appended). False when a length inside the payload pointed past
// its end; what was read before that is kept.
template <class R>
bool decode_payload(const uint8_t* payload, size_t size, R& record) {
    WireReader r(payload, size);
    FieldDecoder decoder(r);
    R::fields(record, decoder);
    return !r.malformed();
}

}  // namespace cowtrace::wire

// Encodes one record into a caller-provided buffer. No allocation, no exceptions, no locks:
// the shim uses it in vfork children and in forked children of multithreaded programs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "record.hpp"

namespace cowtrace::wire {

class WireWriter {
public:
    // The header is written last by finish(); fields start right after it.
    WireWriter(void* buf, size_t capacity)
        : buf_(static_cast<uint8_t*>(buf)), cap_(capacity), pos_(sizeof(RecordHeader)) {
        if (cap_ < sizeof(RecordHeader)) overflow_ = true;
    }

    void u8(uint8_t v) { put(&v, 1); }
    void u16(uint16_t v) { put(&v, 2); }
    void u32(uint32_t v) { put(&v, 4); }
    void i32(int32_t v) { put(&v, 4); }
    void u64(uint64_t v) { put(&v, 8); }
    void i64(int64_t v) { put(&v, 8); }

    // A string: u16 length, then the bytes. Cut to max_len (and to the space left);
    // returns true when it had to be cut.
    bool str(const char* s, size_t len, size_t max_len = 0xffff) {
        if (s == nullptr) len = 0;
        size_t room = remaining() >= 2 ? remaining() - 2 : 0;
        size_t n = len;
        if (n > max_len) n = max_len;
        if (n > 0xffff) n = 0xffff;
        if (n > room) n = room;
        u16(static_cast<uint16_t>(n));
        put(s, n);
        return n < len;
    }
    bool cstr(const char* s, size_t max_len = 0xffff) { return str(s, s ? strlen(s) : 0, max_len); }

    // A list of strings: u16 count, the strings, then u8 "truncated". At most budget bytes of
    // text are kept; the rest of the list is dropped and the truncated flag set. next(s, len)
    // gives the next string and returns false after the last; truncated: the source list was
    // cut already.
    template <class Next>
    void strlist_of(Next&& next, size_t budget, bool truncated = false) {
        size_t count_at = pos_;
        u16(0);
        uint16_t count = 0;
        const char* s = nullptr;
        size_t len = 0;
        while (next(s, len)) {
            if (count == 0xffff || budget < 2 || remaining() < 3) {
                truncated = true;
                break;
            }
            size_t allowed = item_allowance(budget);
            bool cut = str(s, len, allowed);
            budget -= 2 + (len < allowed ? len : allowed);
            ++count;
            if (cut) {
                truncated = true;
                break;
            }
        }
        patch(count_at, &count, 2);
        u8(truncated ? 1 : 0);
    }

    // A NULL-terminated array of C strings, as a string list.
    void strlist(const char* const* items, size_t budget) {
        size_t i = 0;
        strlist_of(
            [&](const char*& s, size_t& len) {
                if (items == nullptr || items[i] == nullptr) return false;
                s = items[i++];
                len = strlen(s);
                return true;
            },
            budget);
    }

    // A NUL-separated blob such as /proc/self/cmdline, as a string list.
    void nul_separated(const char* data, size_t len, size_t budget) {
        size_t i = 0;
        strlist_of(
            [&](const char*& s, size_t& n) {
                if (i >= len) return false;
                s = data + i;
                n = strnlen(s, len - i);
                i += n + 1;
                return true;
            },
            budget);
    }

    // A list of u64 (call-site frames): u16 count, then the values.
    void u64list(const uint64_t* v, size_t n) {
        if (n > 0xffff) n = 0xffff;
        u16(static_cast<uint16_t>(n));
        put(v, n * 8);
    }

    // Writes the header; returns the record size, or 0 if a fixed field did not fit.
    size_t finish(RecordType type, uint16_t flags, int32_t pid, int32_t tid, uint64_t t_ns,
                  uint32_t seq) {
        if (overflow_) return 0;
        RecordHeader h{};
        h.size = static_cast<uint32_t>(pos_);
        h.type = static_cast<uint16_t>(type);
        h.flags = flags;
        h.pid = pid;
        h.tid = tid;
        h.t_ns = t_ns;
        h.seq = seq;
        memcpy(buf_, &h, sizeof h);
        return pos_;
    }

    size_t size() const { return pos_; }
    bool overflowed() const { return overflow_; }
    size_t remaining() const { return overflow_ ? 0 : cap_ - pos_; }

private:
    // Text one list item may take: within the budget, and leaving room for the list's trailing
    // "truncated" byte, so a list cut by a full buffer still ends well-formed and flagged
    // instead of losing the whole record. Callers have checked remaining() >= 3.
    size_t item_allowance(size_t budget) const {
        size_t by_budget = budget - 2;
        size_t by_space = remaining() - 3;  // the item's length field and the flag
        return by_budget < by_space ? by_budget : by_space;
    }

    void put(const void* p, size_t n) {
        if (overflow_ || n > cap_ - pos_) {
            overflow_ = true;
            return;
        }
        if (n) memcpy(buf_ + pos_, p, n);
        pos_ += n;
    }
    void patch(size_t at, const void* p, size_t n) {
        if (!overflow_ && at + n <= cap_) memcpy(buf_ + at, p, n);
    }

    uint8_t* buf_;
    size_t cap_;
    size_t pos_;
    bool overflow_ = false;
};

}  // namespace cowtrace::wire

#include "json_stream.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <system_error>

namespace cowtrace::report {

namespace {

constexpr size_t kIndent = 2;
constexpr size_t kFlushAt = 1 << 16;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// The bytes of the well-formed UTF-8 sequence that starts at text[i] (RFC 3629 §4: no overlong
// forms, no surrogates, nothing past U+10FFFF), or 0 when it is not one; `valid` then says how
// many of its bytes were acceptable before the one that is not (0: the first byte itself).
size_t utf8_sequence(std::string_view text, size_t i, size_t& valid) {
    auto b = static_cast<uint8_t>(text[i]);
    size_t length = 0;
    uint8_t low = 0x80, high = 0xBF;  // the range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
        length = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        length = 3;
        if (b == 0xE0) low = 0xA0;
        if (b == 0xED) high = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        length = 4;
        if (b == 0xF0) low = 0x90;
        if (b == 0xF4) high = 0x8F;
    } else {
        valid = 0;
        return 0;
    }
    for (size_t k = 1; k < length; ++k) {
        if (i + k >= text.size()) {
            valid = k;
            return 0;
        }
        auto c = static_cast<uint8_t>(text[i + k]);
        uint8_t lo = k == 1 ? low : 0x80, hi = k == 1 ? high : 0xBF;
        if (c < lo || c > hi) {
            valid = k;
            return 0;
        }
    }
    return length;
}

}  // namespace

JsonStream::JsonStream(std::ostream& out) : out_(out) {
    buffer_.reserve(kFlushAt + 4096);
}

JsonStream::~JsonStream() {
    flush();
}

void JsonStream::flush() {
    if (!buffer_.empty()) out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
}

void JsonStream::append(std::string_view text) {
    buffer_.append(text);
    if (buffer_.size() >= kFlushAt) flush();
}

void JsonStream::newline_and_indent(size_t depth) {
    buffer_.push_back('\n');
    buffer_.append(depth * kIndent, ' ');
}

void JsonStream::element() {
    if (after_key_) {  // the key wrote the separator
        after_key_ = false;
        return;
    }
    if (counts_.empty()) return;
    if (counts_.back()++ > 0) buffer_.push_back(',');
    newline_and_indent(counts_.size());
}

JsonStream& JsonStream::key(std::string_view name) {
    element();
    append_escaped(name);
    append(": ");
    after_key_ = true;
    return *this;
}

void JsonStream::begin(char open) {
    element();
    buffer_.push_back(open);
    counts_.push_back(0);
}

void JsonStream::end(char close) {
    size_t count = counts_.back();
    counts_.pop_back();
    if (count > 0) newline_and_indent(counts_.size());
    buffer_.push_back(close);
    if (buffer_.size() >= kFlushAt) flush();
}

void JsonStream::begin_object() {
    begin('{');
}
void JsonStream::end_object() {
    end('}');
}
void JsonStream::begin_array() {
    begin('[');
}
void JsonStream::end_array() {
    end(']');
}

void JsonStream::string(std::string_view text) {
    element();
    append_escaped(text);
}

void JsonStream::null() {
    element();
    append("null");
}

void JsonStream::boolean(bool yes) {
    element();
    append(yes ? "true" : "false");
}

void JsonStream::signed_number(int64_t value) {
    element();
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    append(std::string_view(digits, static_cast<size_t>(end - digits)));
}

void JsonStream::unsigned_number(uint64_t value) {
    element();
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    append(std::string_view(digits, static_cast<size_t>(end - digits)));
}

// As nlohmann prints a double: the shortest digits that read back as the same value, in fixed
// notation from 1e-4 to below 1e15 (with ".0" when whole), otherwise "d.ddde+NN"; not a number
// and the infinities as null, which JSON lacks.
void JsonStream::number(double value) {
    element();
    if (!std::isfinite(value)) {
        append("null");
        return;
    }
    std::string text;
    if (std::signbit(value)) {
        text.push_back('-');
        value = -value;
    }
    if (value == 0) {
        append(text + "0.0");
        return;
    }
    char sci[32];
    auto [sci_end, ec] = std::to_chars(sci, sci + sizeof sci, value, std::chars_format::scientific);
    std::string_view s(sci, static_cast<size_t>(sci_end - sci));  // "d.ddde+XX" or "de-XX"
    size_t e_at = s.find('e');
    std::string digits(s.substr(0, e_at));
    if (digits.size() > 1) digits.erase(1, 1);  // the point
    int exponent = 0;
    std::from_chars(s.data() + e_at + (s[e_at + 1] == '+' ? 2 : 1), s.data() + s.size(), exponent);
    constexpr int kMinExp = -4, kMaxExp = 15;
    const int k = static_cast<int>(digits.size());
    const int n = exponent + 1;  // where the point goes, counted from the first digit
    if (k <= n && n <= kMaxExp) {
        text += digits + std::string(static_cast<size_t>(n - k), '0') + ".0";
    } else if (0 < n && n <= kMaxExp) {
        text +=
            digits.substr(0, static_cast<size_t>(n)) + "." + digits.substr(static_cast<size_t>(n));
    } else if (kMinExp < n && n <= 0) {
        text += "0." + std::string(static_cast<size_t>(-n), '0') + digits;
    } else {
        text += digits.substr(0, 1);
        if (k > 1) text += "." + digits.substr(1);
        int e = n - 1;
        text += e < 0 ? "e-" : "e+";
        e = e < 0 ? -e : e;
        if (e < 10) text += "0";
        text += std::to_string(e);
    }
    append(text);
}

void JsonStream::append_escaped(std::string_view text) {
    buffer_.push_back('"');
    size_t i = 0;
    while (i < text.size()) {
        // Plain text runs are copied whole.
        size_t run = i;
        while (run < text.size()) {
            auto c = static_cast<uint8_t>(text[run]);
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
            ++run;
        }
        buffer_.append(text.substr(i, run - i));
        i = run;
        if (i == text.size()) break;
        auto c = static_cast<uint8_t>(text[i]);
        if (c >= 0x80) {
            size_t valid = 0;
            size_t length = utf8_sequence(text, i, valid);
            if (length > 0) {
                buffer_.append(text.substr(i, length));
                i += length;
            } else {
                // One replacement per broken sequence; the byte that broke it starts anew (it may
                // begin a good one), unless it was the first.
                buffer_.append(kReplacement);
                i += valid == 0 ? 1 : valid;
            }
            continue;
        }
        switch (c) {
            case '"':
                buffer_.append("\\\"");
                break;
            case '\\':
                buffer_.append("\\\\");
                break;
            case '\b':
                buffer_.append("\\b");
                break;
            case '\t':
                buffer_.append("\\t");
                break;
            case '\n':
                buffer_.append("\\n");
                break;
            case '\f':
                buffer_.append("\\f");
                break;
            case '\r':
                buffer_.append("\\r");
                break;
            default: {
                static constexpr char kHex[] = "0123456789abcdef";
                char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
                buffer_.append(escaped, sizeof escaped);
            }
        }
        ++i;
    }
    buffer_.push_back('"');
    if (buffer_.size() >= kFlushAt) flush();
}

}  // namespace cowtrace::report

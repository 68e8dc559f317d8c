// A JSON document written to a stream as it is walked, with no tree in memory: the JSON report of
// 100,000 processes is a quarter of a gigabyte, and building it as a nlohmann::json tree first
// took six times that (docs/PERFORMANCE.md, "Reports at scale").
//
// The text is what nlohmann::json::dump(2, ' ', false, error_handler_t::replace) gives for the
// same document, byte for byte, so reports did not change when the writer did: two-space
// indentation, "[]" and "{}" when empty, integers in decimal, floating point as nlohmann prints
// it, strings escaped per RFC 8259 (only '"', '\\' and control characters; other text as is) and
// each invalid UTF-8 sequence replaced by U+FFFD, as nlohmann's replace handler does. dump()
// sorts an object's keys: a caller that wants the same text writes them in that order.
#pragma once

#include <concepts>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cowtrace::report {

class JsonStream {
public:
    explicit JsonStream(std::ostream& out);
    // Flushes what is buffered; the document must be complete by then.
    ~JsonStream();
    JsonStream(const JsonStream&) = delete;
    JsonStream& operator=(const JsonStream&) = delete;

    void begin_object();
    void end_object();
    void begin_array();
    void end_array();
    // Inside an object: the key of the value written next.
    JsonStream& key(std::string_view name);

    void string(std::string_view text);
    void null();
    void boolean(bool yes);
    void number(double value);
    template <std::integral T>
    requires(!std::same_as<T, bool>) void number(T value) {
        if constexpr (std::is_signed_v<T>)
            signed_number(static_cast<int64_t>(value));
        else
            unsigned_number(static_cast<uint64_t>(value));
    }

    // Hands the buffered text to the stream.
    void flush();

private:
    void signed_number(int64_t value);
    void unsigned_number(uint64_t value);
    // Before a value or a key: the separator and indentation its container needs.
    void element();
    void begin(char open);
    void end(char close);
    void newline_and_indent(size_t depth);
    void append(std::string_view text);
    void append_escaped(std::string_view text);

    std::ostream& out_;
    std::string buffer_;
    std::vector<size_t> counts_;  // elements written so far in each open container
    bool after_key_ = false;
};

}  // namespace cowtrace::report

// One string as the model keeps it, interned as command lines are: an exec's file name, a memory
// region's name. A build's 100,000 runs of /usr/bin/cc hold the name once, and each exec holds
// 8 bytes where its path and requested path were two strings of 32; every fork episode of a
// bash loop names the same eight regions, half of them library paths too long for a string's
// own room (issue 15).
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

#include "command_line.hpp"

namespace cowtrace::model {

class InternedText {
public:
    InternedText() = default;  // no text
    // A text of its own, not interned (tests): the build interns with interned().
    InternedText(std::string_view text);
    InternedText(const char* text) : InternedText(std::string_view(text)) {}
    InternedText(const std::string& text) : InternedText(std::string_view(text)) {}
    // The text, shared with every text and one-word command line spelt the same in table.
    static InternedText interned(std::string_view text, CommandLineTable& table);

    bool empty() const { return word_.empty(); }
    std::string_view view() const { return word_.empty() ? std::string_view() : word_[0]; }
    std::string str() const { return std::string(view()); }
    bool shares_storage_with(const InternedText& o) const {
        return word_.shares_storage_with(o.word_);
    }

    friend bool operator==(const InternedText& a, const InternedText& b) {
        return a.shares_storage_with(b) || a.view() == b.view();
    }

private:
    explicit InternedText(CommandLine word) : word_(std::move(word)) {}

    CommandLine word_;  // the text as the only word; no words for no text
};

std::ostream& operator<<(std::ostream& out, const InternedText& text);  // for test messages

}  // namespace cowtrace::model

#include "terminal_text.hpp"

namespace cowtrace::live {

namespace {

bool continuation_byte(unsigned char c) {
    return (c & 0xc0) == 0x80;
}

}  // namespace

size_t display_width(const std::string& text) {
    size_t chars = 0;
    for (char c : text) chars += continuation_byte(static_cast<unsigned char>(c)) ? 0 : 1;
    return chars;
}

std::string cut_to_width(const std::string& text, size_t width) {
    size_t chars = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        if (continuation_byte(static_cast<unsigned char>(text[i]))) continue;
        if (chars == width) return text.substr(0, i);
        ++chars;
    }
    return text;
}

std::string printable(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) {
            out += '?';
        } else if (c == 0xc2 && i + 1 < text.size() &&
                   static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
            out += '?';  // U+0080..U+009F: C1 controls, CSI (U+009B) among them
            ++i;
        } else {
            out += text[i];
        }
    }
    return out;
}

}  // namespace cowtrace::live

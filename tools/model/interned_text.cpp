#include "interned_text.hpp"

#include <ostream>
#include <span>

namespace cowtrace::model {

InternedText::InternedText(std::string_view text) {
    if (!text.empty()) word_ = CommandLine(std::span<const std::string_view>(&text, 1));
}

InternedText InternedText::interned(std::string_view text, CommandLineTable& table) {
    if (text.empty()) return {};
    return InternedText(table.intern(std::span<const std::string_view>(&text, 1)));
}

std::ostream& operator<<(std::ostream& out, const InternedText& text) {
    return out << '"' << text.view() << '"';
}

}  // namespace cowtrace::model

// Text bound for a terminal: its width in characters, cut to a width, and made printable. What
// a traced program calls itself (its command line) is not ours to send to a terminal as is:
// a control character, or a C1 control encoded in UTF-8, could move the cursor, retitle the
// window or worse.
#pragma once

#include <cstddef>
#include <string>

namespace cowtrace::live {

// Characters in a UTF-8 string (what the screen's width is counted in; the view's own
// characters are one column wide each).
size_t display_width(const std::string& text);

// The first `width` characters of text.
std::string cut_to_width(const std::string& text, size_t width);

// text with each C0 control, DEL and C1 control (U+0080 to U+009F) shown as '?'.
std::string printable(const std::string& text);

}  // namespace cowtrace::live

// The live view's screen as text: a pure function of the state and the terminal's size, so
// that what a user sees is unit-tested without a terminal. Every line fits the width (counted
// in characters; the view's own are all one column wide) and there are at most `height` lines;
// what does not fit is cut with a "… N more" line. A command line's control characters are
// shown as '?' (terminal_text.hpp): a traced program's name cannot drive the terminal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "live_state.hpp"

namespace cowtrace::live {

struct ScreenFrame {
    std::string title;         // "cowtrace run: make -j8"
    uint64_t elapsed_ns = 0;   // since the collection began
    uint64_t interval_ns = 0;  // the sampling interval
    std::string keys;          // the bottom line: what q and Ctrl-C do
};

std::vector<std::string> live_screen_lines(const LiveState& state, const ScreenFrame& frame,
                                           int width, int height);

}  // namespace cowtrace::live

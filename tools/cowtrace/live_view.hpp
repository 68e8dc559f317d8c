// `--live`: the collection's state drawn on the terminal at every status tick of the session
// (the sampling interval), redrawn whole at the new size after a resize. The view opens at its
// first tick, inside the session's loop, where the session already holds SIGINT and SIGTERM:
// no signal can end the process between the screen's switch and its restoring. `q` closes the
// view and calls on_quit (attach: the collection ends; run: it goes on without a view).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "live/live_state.hpp"
#include "live_terminal.hpp"

namespace cowtrace::cli {

class LiveView {
public:
    // title: the top line; keys: the bottom line, saying what q and Ctrl-C do.
    LiveView(std::string title, std::string keys, uint64_t interval_ns);

    live::LiveState& state() { return state_; }
    // Reads the keys and draws the screen; nothing once the view is closed.
    void refresh();
    // Puts the terminal back (also on destruction); call before writing to it.
    void close();

    std::function<void()> on_quit;

private:
    LiveTerminal terminal_;
    live::LiveState state_;
    std::string title_;
    std::string keys_;
    uint64_t interval_ns_ = 0;
    std::chrono::steady_clock::time_point start_;
    bool closed_ = false;
};

}  // namespace cowtrace::cli

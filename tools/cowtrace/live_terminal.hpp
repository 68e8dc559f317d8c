// The terminal under a live view, in plain ANSI: the alternate screen with the cursor hidden
// and keys read one at a time without echo, all put back as they were when the view ends —
// by end() or the destructor on every way out of a command, and by a handler on a crash
// (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) before it goes on to kill the process, and on
// Ctrl-Z (SIGTSTP) before the process stops, to be taken again after SIGCONT. SIGINT,
// SIGTERM, SIGHUP and SIGQUIT are the session's (blocked and read from a signalfd while it
// collects): they end the collection and the view closes on the way out. The terminal's
// signal keys keep working (ISIG stays on): Ctrl-C does what it does without --live.
#pragma once

#include <string>
#include <vector>

namespace cowtrace::cli {

class LiveTerminal {
public:
    LiveTerminal() = default;
    ~LiveTerminal();
    LiveTerminal(const LiveTerminal&) = delete;
    LiveTerminal& operator=(const LiveTerminal&) = delete;

    // Whether stdout is a terminal a screen can be drawn on.
    static bool available();

    // Switches to the alternate screen; false (and nothing changed) if stdout is no terminal.
    bool begin();
    // After Ctrl-Z (the terminal was given back as it was) and SIGCONT: takes it again.
    bool resume_after_stop();
    // The screen's size now (columns, rows), read at each refresh: after a resize (SIGWINCH,
    // which needs no handler of ours) the next draw clears the whole screen first.
    void size(int& width, int& height);
    // Draws the lines from the top left, each erasing the rest of its row, and clears below.
    void draw(const std::vector<std::string>& lines);
    // Keys typed since the last call (nothing when stdin is no terminal).
    std::string keys();
    // Back to the normal screen, cursor shown, the terminal's modes as they were.
    void end();
    bool active() const { return active_; }

private:
    void enter();

    bool active_ = false;
    bool redraw_all_ = true;
    int width_ = 0;
    int height_ = 0;
};

}  // namespace cowtrace::cli

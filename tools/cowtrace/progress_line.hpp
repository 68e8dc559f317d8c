// Progress of a long report on stderr, only when stderr is a terminal: one line redrawn in place
// and erased when the work is done. It appears only once the work has taken longer than a moment
// (COWTRACE_PROGRESS_DELAY_MS, default 500), so quick reports print nothing extra.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace cowtrace::cli {

class ProgressLine {
public:
    explicit ProgressLine(std::string prefix);
    ~ProgressLine();
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    // What is being done now ("reading t.trace (1.2 GiB)"); drawn at once if the delay is over.
    void phase(const std::string& text);
    // Erases the line and stops drawing; call before writing anything else to the terminal.
    void done();

private:
    void draw();
    void draw_loop();

    std::string prefix_;
    bool enabled_ = false;
    std::chrono::steady_clock::time_point start_;
    std::chrono::milliseconds delay_{500};
    std::mutex mutex_;
    std::condition_variable wake_;
    std::string text_;
    bool stop_ = false;
    bool drawn_ = false;
    std::thread thread_;
};

}  // namespace cowtrace::cli

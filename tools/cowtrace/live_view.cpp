#include "live_view.hpp"

#include "live/live_screen.hpp"

namespace cowtrace::cli {

LiveView::LiveView(std::string title, std::string keys, uint64_t interval_ns)
    : title_(std::move(title)),
      keys_(std::move(keys)),
      interval_ns_(interval_ns),
      start_(std::chrono::steady_clock::now()) {}

void LiveView::refresh() {
    if (closed_) return;
    if (!terminal_.active() && !terminal_.begin()) {
        closed_ = true;
        return;
    }
    terminal_.resume_after_stop();
    std::string typed = terminal_.keys();
    if (typed.find_first_of("qQ") != std::string::npos) {
        close();
        if (on_quit) on_quit();
        return;
    }
    int width = 0, height = 0;
    terminal_.size(width, height);
    live::ScreenFrame frame;
    frame.title = title_;
    frame.elapsed_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                 std::chrono::steady_clock::now() - start_)
                                                 .count());
    frame.interval_ns = interval_ns_;
    frame.keys = keys_;
    terminal_.draw(live::live_screen_lines(state_, frame, width, height));
}

void LiveView::close() {
    closed_ = true;
    terminal_.end();
}

}  // namespace cowtrace::cli

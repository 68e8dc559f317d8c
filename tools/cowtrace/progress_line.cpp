#include "progress_line.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace cowtrace::cli {

namespace {
constexpr std::chrono::milliseconds kRedrawInterval{100};
}

ProgressLine::ProgressLine(std::string prefix)
    : prefix_(std::move(prefix)),
      enabled_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {
    if (!enabled_) return;
    if (const char* d = getenv("COWTRACE_PROGRESS_DELAY_MS"); d && *d) {
        char* end = nullptr;
        long ms = strtol(d, &end, 10);
        if (end && *end == '\0' && ms >= 0) delay_ = std::chrono::milliseconds(ms);
    }
    thread_ = std::thread([this] { draw_loop(); });
}

ProgressLine::~ProgressLine() {
    done();
}

void ProgressLine::phase(const std::string& text) {
    std::lock_guard<std::mutex> lock(mutex_);
    text_ = text;
    if (enabled_ && !stop_) draw();
}

void ProgressLine::done() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) return;
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

// Called with mutex_ held.
void ProgressLine::draw() {
    auto elapsed = std::chrono::steady_clock::now() - start_;
    if (elapsed < delay_ || text_.empty()) return;
    double s = std::chrono::duration<double>(elapsed).count();
    // \r and "erase to end of line": the line is redrawn in place.
    fprintf(stderr, "\r\033[K%s: %s… %.1fs", prefix_.c_str(), text_.c_str(), s);
    fflush(stderr);
    drawn_ = true;
}

void ProgressLine::draw_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, kRedrawInterval, [this] { return stop_; })) draw();
    if (drawn_) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

}  // namespace cowtrace::cli

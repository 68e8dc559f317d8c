#include "live_terminal.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace cowtrace::cli {

namespace {

// DEC private modes: 1049 the alternate screen (saving the cursor), 25 the cursor's visibility.
constexpr char kEnter[] = "\033[?1049h\033[?25l\033[H\033[2J";
constexpr char kLeave[] = "\033[?25h\033[?1049l";
constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

// What the signal handlers need, set before they are installed: plain globals, as only
// async-signal-safe calls may use them.
volatile sig_atomic_t g_terminal_changed = 0;
volatile sig_atomic_t g_suspended = 0;  // stopped by Ctrl-Z, the terminal given back
bool g_termios_saved = false;
termios g_saved_termios{};
struct sigaction g_old_crash[sizeof kCrashSignals / sizeof kCrashSignals[0]]{};

void write_all(const char* bytes, size_t size) {
    while (size > 0) {
        ssize_t n = write(STDOUT_FILENO, bytes, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        bytes += n;
        size -= static_cast<size_t>(n);
    }
}

// write() and tcsetattr() only: safe in a signal handler.
void restore_terminal() {
    if (!g_terminal_changed) return;
    g_terminal_changed = 0;
    write_all(kLeave, sizeof kLeave - 1);
    if (g_termios_saved) tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_termios);
}

// Ctrl-Z: the shell gets its terminal back as it was; the view comes back at the next
// refresh after SIGCONT (resume_after_stop()).
void on_stop(int) {
    int saved_errno = errno;
    restore_terminal();
    g_suspended = 1;
    signal(SIGTSTP, SIG_DFL);
    raise(SIGTSTP);  // blocked in this handler: the process stops when it returns
    errno = saved_errno;
}

// SA_RESETHAND: the default action (a core, a kill) follows when the handler returns and the
// fault recurs, or at once for the raised signal.
void on_crash(int sig) {
    restore_terminal();
    raise(sig);
}

}  // namespace

LiveTerminal::~LiveTerminal() {
    end();
}

bool LiveTerminal::available() {
    return isatty(STDOUT_FILENO) == 1;
}

bool LiveTerminal::begin() {
    if (active_) return true;
    if (!available()) return false;
    struct sigaction crash {};
    crash.sa_handler = on_crash;
    sigemptyset(&crash.sa_mask);
    crash.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof kCrashSignals / sizeof kCrashSignals[0]; ++i)
        sigaction(kCrashSignals[i], &crash, &g_old_crash[i]);
    enter();
    active_ = true;
    return true;
}

void LiveTerminal::enter() {
    struct sigaction stop {};
    stop.sa_handler = on_stop;
    sigemptyset(&stop.sa_mask);
    stop.sa_flags = SA_RESTART;
    sigaction(SIGTSTP, &stop, nullptr);
    g_termios_saved = false;
    if (isatty(STDIN_FILENO) == 1 && tcgetattr(STDIN_FILENO, &g_saved_termios) == 0) {
        g_termios_saved = true;
        termios raw = g_saved_termios;
        // Keys one at a time, not echoed; VMIN 1: a program sharing the terminal still blocks
        // in read() as before rather than reading an end of file.
        raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
    }
    g_terminal_changed = 1;
    write_all(kEnter, sizeof kEnter - 1);
    redraw_all_ = true;
}

bool LiveTerminal::resume_after_stop() {
    if (!active_ || !g_suspended) return false;
    g_suspended = 0;
    enter();
    return true;
}

void LiveTerminal::size(int& width, int& height) {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        width = ws.ws_col;
        height = ws.ws_row;
    } else {
        width = 80;
        height = 24;
    }
    if (width != width_ || height != height_) redraw_all_ = true;  // resized: clear it all
    width_ = width;
    height_ = height;
}

void LiveTerminal::draw(const std::vector<std::string>& lines) {
    if (!active_) return;
    // One write per frame, so that no half-drawn frame is seen.
    std::string frame = redraw_all_ ? "\033[H\033[2J" : "\033[H";
    redraw_all_ = false;
    for (size_t i = 0; i < lines.size(); ++i) {
        frame += lines[i];
        frame += "\033[K";
        if (i + 1 < lines.size()) frame += "\r\n";
    }
    frame += "\033[J";
    write_all(frame.data(), frame.size());
}

std::string LiveTerminal::keys() {
    std::string typed;
    if (!active_ || !g_termios_saved) return typed;
    pollfd p{STDIN_FILENO, POLLIN, 0};
    while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
        char buf[64];
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0) break;
        typed.append(buf, static_cast<size_t>(n));
    }
    return typed;
}

void LiveTerminal::end() {
    if (!active_) return;
    active_ = false;
    restore_terminal();
    signal(SIGTSTP, SIG_DFL);
    for (size_t i = 0; i < sizeof kCrashSignals / sizeof kCrashSignals[0]; ++i)
        sigaction(kCrashSignals[i], &g_old_crash[i], nullptr);
}

}  // namespace cowtrace::cli

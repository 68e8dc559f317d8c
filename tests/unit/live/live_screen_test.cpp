// The live screen is drawn from the state alone: the tree under its roots, each open episode
// with its figures and bar, the episodes just ended; every line within the width, never more
// lines than the height, and what is cut counted.
#include "live/live_screen.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "live/terminal_text.hpp"
#include "live_records.hpp"

namespace cowtrace::live {
namespace {

using testing::TraceBuilder;

constexpr pid_t kServer = 4242;
constexpr pid_t kChild = 4243;

ScreenFrame frame() {
    ScreenFrame f;
    f.title = "cowtrace run: cow_writer --share 64";
    f.elapsed_ns = 3200 * kMs;
    f.interval_ns = 100 * kMs;
    f.keys = "q: close this view";
    return f;
}

// A server with a child copying, and `extra` more children of the server without episodes.
LiveState server_and_child(int extra = 0) {
    LiveState s;
    s.on_process_started(kServer);
    s.on_process_started(kChild);
    TraceBuilder b;
    b.hello(kServer, 100 * kMs, 1, "/usr/bin/cow_writer", {"cow_writer", "--share", "64"})
        .child_start(kChild, 1000 * kMs, wire::CreateHow::kFork, kServer)
        .memory_sample(kServer, 900 * kMs, 66 * kMiB, 64 * kMiB)
        .episode_start(kChild, 1000 * kMs, kServer, 64 * kMiB)
        .episode_sample(kChild, 1100 * kMs, 60 * kMiB, 4 * kMiB, 0, 4 * kMiB)
        .episode_sample(kChild, 1600 * kMs, 44 * kMiB, 20 * kMiB, 0, 20 * kMiB);
    for (int i = 0; i < extra; ++i) {
        pid_t pid = 5000 + i;
        s.on_process_started(pid);
        b.child_start(pid, 2000 * kMs, wire::CreateHow::kFork, kServer);
    }
    feed(s, b);
    return s;
}

size_t index_of(const std::vector<std::string>& lines, const std::string& part) {
    for (size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].find(part) != std::string::npos) return i;
    }
    return lines.size();
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& l : lines) out += l + "\n";
    return out;
}

TEST(LiveScreen, ShowsTheTreeAndAnOpenEpisodeWithItsFiguresAndBar) {
    LiveState s = server_and_child();
    std::vector<std::string> lines = live_screen_lines(s, frame(), 100, 30);
    std::string screen = joined(lines);
    EXPECT_EQ(lines.size(), 30u) << screen;
    EXPECT_NE(lines[0].find("cowtrace run: cow_writer --share 64"), std::string::npos) << screen;
    EXPECT_NE(lines[0].find("3.2 s"), std::string::npos) << screen;
    EXPECT_NE(lines[1].find("tree PSS 64.0 MiB"), std::string::npos) << screen;
    size_t server = index_of(lines, "4242 ");
    size_t child = index_of(lines, "└ cow_writer --share 64");
    ASSERT_LT(server, lines.size()) << screen;
    ASSERT_EQ(child, server + 1) << "the child right under its parent\n" << screen;
    EXPECT_EQ(lines[child].rfind("4243", 0), 0u) << screen;
    size_t episode = index_of(lines, "4242 → 4243");
    ASSERT_LT(episode, lines.size()) << screen;
    // 16 MiB copied in 0.5 s; 20 of 64 MiB is 31 %, 9 of a 30-wide bar.
    EXPECT_TRUE(std::regex_search(
        lines[episode], std::regex("64\\.0 MiB +20\\.0 MiB +32\\.0 MiB/s +\\[#{9}\\.{21}\\] 31%")))
        << lines[episode];
    EXPECT_EQ(lines.back(), "q: close this view");
}

TEST(LiveScreen, EveryLineFitsTheWidthAndTheScreenItsHeight) {
    LiveState s = server_and_child(40);
    for (int width : {10, 30, 45, 60, 80, 100, 200}) {
        for (int height : {1, 3, 6, 10, 24, 60}) {
            std::vector<std::string> lines = live_screen_lines(s, frame(), width, height);
            EXPECT_LE(lines.size(), static_cast<size_t>(height)) << width << "x" << height;
            for (const std::string& l : lines)
                EXPECT_LE(display_width(l), static_cast<size_t>(width))
                    << width << "x" << height << ": " << l;
        }
    }
}

TEST(LiveScreen, ANarrowScreenDropsTheBarButKeepsTheShare) {
    LiveState s = server_and_child();
    std::vector<std::string> lines = live_screen_lines(s, frame(), 60, 30);
    size_t episode = index_of(lines, "4242 → 4243");
    ASSERT_LT(episode, lines.size()) << joined(lines);
    EXPECT_EQ(lines[episode].find('['), std::string::npos) << lines[episode];
    std::vector<std::string> wide = live_screen_lines(s, frame(), 100, 30);
    EXPECT_NE(wide[index_of(wide, "4242 → 4243")].find("31%"), std::string::npos);
}

TEST(LiveScreen, ProcessesThatDoNotFitAreCounted) {
    LiveState s = server_and_child(40);  // 42 processes
    std::vector<std::string> lines = live_screen_lines(s, frame(), 100, 20);
    std::string screen = joined(lines);
    ASSERT_EQ(lines.size(), 20u);
    EXPECT_LT(index_of(lines, "4242 → 4243"), lines.size()) << "the open episode is shown\n"
                                                            << screen;
    size_t more = index_of(lines, "… ");
    ASSERT_LT(more, lines.size()) << screen;
    size_t shown = 0;
    for (const std::string& l : lines)
        shown += std::regex_search(l, std::regex("^[0-9]+ +[0-9.]+ [KMG]?i?B ")) ? 1 : 0;
    int left_out = std::stoi(lines[more].substr(std::string("… ").size()));
    EXPECT_EQ(shown + static_cast<size_t>(left_out), 42u) << screen;
}

TEST(LiveScreen, ACommandCannotWriteEscapesToTheTerminal) {
    LiveState s;
    s.on_process_started(7);
    TraceBuilder b;
    b.hello(7, 1, 1, "/bin/x", {"x\033[2J\033]0;owned\007"});
    feed(s, b);
    std::string screen = joined(live_screen_lines(s, frame(), 100, 10));
    EXPECT_EQ(screen.find('\033'), std::string::npos) << screen;
    EXPECT_EQ(screen.find('\007'), std::string::npos) << screen;
    EXPECT_NE(screen.find("x?[2J?]0;owned?"), std::string::npos) << screen;
}

TEST(LiveScreen, AChainOfForksThousandsDeepIsDrawnWithABoundedIndent) {
    LiveState s;
    TraceBuilder b;
    constexpr pid_t kFirst = 10000, kDepth = 5000;
    for (pid_t pid = kFirst; pid < kFirst + kDepth; ++pid) {
        s.on_process_started(pid);
        if (pid == kFirst) {
            b.hello(pid, 1, 1, "/bin/sh", {"sh"});
        } else {
            b.child_start(pid, 2, wire::CreateHow::kFork, pid - 1);
        }
    }
    feed(s, b);
    std::vector<std::string> lines = live_screen_lines(s, frame(), 100, 40);
    std::string screen = joined(lines);
    EXPECT_EQ(lines[4].rfind("10000 ", 0), 0u) << screen;
    EXPECT_EQ(lines[5].rfind("10001 ", 0), 0u) << screen;
    EXPECT_NE(lines[5].find("└ sh"), std::string::npos) << screen;
    size_t more = index_of(lines, "… ");
    ASSERT_LT(more, lines.size()) << screen;
    // PID and PSS columns (21), then two columns per level up to 16 levels (30 before the └).
    for (size_t row : {more - 2, more - 1}) {
        const std::string& line = lines[row];
        EXPECT_EQ(display_width(line.substr(0, line.find("└"))), 21u + 30u)
            << "the indent stops growing\n"
            << screen;
    }
}

TEST(LiveScreen, ProcessesInAParentCycleAreStillShown) {
    LiveState s;
    s.on_process_started(1);
    s.on_process_started(2);
    TraceBuilder b;
    b.child_start(1, 1, wire::CreateHow::kFork, 2).child_start(2, 2, wire::CreateHow::kFork, 1);
    feed(s, b);
    std::vector<std::string> lines = live_screen_lines(s, frame(), 100, 20);
    EXPECT_LT(index_of(lines, "1        "), lines.size()) << joined(lines);
    EXPECT_LT(index_of(lines, "2        "), lines.size()) << joined(lines);
}

TEST(TerminalText, ControlsOfEveryKindAreShownAsQuestionMarks) {
    EXPECT_EQ(printable("a\tb\x7f"
                        "c"),
              "a?b?c");
    EXPECT_EQ(printable("x\xc2\x9b"
                        "31m"),
              "x?31m")
        << "CSI as a UTF-8 C1 control";
    EXPECT_EQ(printable("caf\xc3\xa9 \xc2\xa0"), "caf\xc3\xa9 \xc2\xa0") << "text is kept";
}

TEST(TerminalText, WidthsAndCutsCountCharactersNotBytes) {
    EXPECT_EQ(display_width("4242 → 4243"), 11u);
    EXPECT_EQ(cut_to_width("4242 → 4243", 6), "4242 →");
    EXPECT_EQ(cut_to_width("abc", 10), "abc");
}

TEST(LiveScreen, EndedEpisodesAreListedNewestFirst) {
    LiveState s = server_and_child();
    TraceBuilder b;
    b.episode_end(kChild, 3000 * kMs, wire::EpisodeEndReason::kExit)
        .episode_start(6000, 3100 * kMs, kServer, 64 * kMiB)
        .episode_end(6000, 3200 * kMs, wire::EpisodeEndReason::kExit);
    feed(s, b);
    std::vector<std::string> lines = live_screen_lines(s, frame(), 100, 30);
    std::string screen = joined(lines);
    size_t heading = index_of(lines, "ENDED");
    ASSERT_LT(heading + 2, lines.size()) << screen;
    EXPECT_NE(lines[heading + 1].find("4242 → 6000"), std::string::npos) << screen;
    EXPECT_NE(lines[heading + 1].find("ended before its first sample"), std::string::npos);
    EXPECT_NE(lines[heading + 2].find("4242 → 4243"), std::string::npos) << screen;
    EXPECT_NE(lines[heading + 2].find("31%"), std::string::npos) << screen;
    EXPECT_NE(screen.find("(no fork episode open)"), std::string::npos) << screen;
}

}  // namespace
}  // namespace cowtrace::live

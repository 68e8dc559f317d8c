#include "report/sparkline.hpp"

#include <gtest/gtest.h>

namespace cowtrace::report {
namespace {

// The characters of a sparkline (each glyph is one UTF-8 sequence or a space).
std::vector<std::string> glyphs(const std::string& s) {
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
        size_t n = (static_cast<unsigned char>(s[i]) < 0x80) ? 1 : 3;
        out.push_back(s.substr(i, n));
        i += n;
    }
    return out;
}

const std::vector<std::string> kLevels = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};

int level(const std::string& g) {
    for (size_t i = 0; i < kLevels.size(); ++i) {
        if (kLevels[i] == g) return static_cast<int>(i);
    }
    return -1;
}

TEST(Sparkline, HasOneGlyphPerSlice) {
    auto g = glyphs(sparkline({{0, 1}, {50, 5}}, 0, 100, 17));
    EXPECT_EQ(g.size(), 17u);
    for (const auto& x : g) EXPECT_GE(level(x), 0) << x;
}

TEST(Sparkline, AGrowingSeriesNeverDropsAndEndsAtTheTop) {
    std::vector<SeriesPoint> points;
    for (uint64_t t = 0; t <= 1000; t += 100) points.push_back({t, t * t});
    auto g = glyphs(sparkline(points, 0, 1000, 20));
    for (size_t i = 1; i < g.size(); ++i) EXPECT_GE(level(g[i]), level(g[i - 1])) << i;
    EXPECT_EQ(g.back(), "█");
}

TEST(Sparkline, ZeroIsBlankAndAnySmallValueShows) {
    auto g = glyphs(sparkline({{0, 0}, {500, 1}, {600, 1000}}, 0, 1000, 10));
    EXPECT_EQ(g[0], " ");
    EXPECT_EQ(g[4], " ");
    EXPECT_EQ(g[5], "▁") << "1 of 1000 is not nothing";
    EXPECT_EQ(g[6], "█");
}

TEST(Sparkline, ASliceShowsTheHighestValueItHeld) {
    // A spike that lasts less than a slice must not vanish.
    auto g = glyphs(sparkline({{0, 0}, {105, 100}, {106, 0}}, 0, 1000, 10));
    EXPECT_EQ(g[1], "█");
    EXPECT_EQ(g[2], " ");
}

TEST(Sparkline, DegenerateInputsDoNotCrash) {
    EXPECT_EQ(sparkline({}, 0, 0, 0), "");
    EXPECT_EQ(glyphs(sparkline({}, 10, 5, 4)).size(), 4u);
    EXPECT_EQ(glyphs(sparkline({{7, 3}}, 7, 7, 3)), (std::vector<std::string>{"█", "█", "█"}));
}

}  // namespace
}  // namespace cowtrace::report

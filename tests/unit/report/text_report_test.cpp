#include "report/text_report.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "tree_fixture.hpp"

namespace cowtrace::report {
namespace {

using testing::kMiB;
using testing::kMs;
using testing::TreeFixture;

std::string text_of(const model::ProcessTree& tree, TextOptions o = {}) {
    std::ostringstream out;
    write_text(tree, o, out);
    return out.str();
}

// The lines printed under the process line that contains marker, up to the next process line.
std::vector<std::string> block_under(const std::string& text, const std::string& marker) {
    std::istringstream in(text);
    std::vector<std::string> out;
    std::string line;
    bool inside = false;
    while (std::getline(in, line)) {
        if (inside) {
            if (line.find("─") != std::string::npos || line.empty()) break;
            out.push_back(line);
        } else if (line.find(marker) != std::string::npos) {
            inside = true;
        }
    }
    return out;
}

TEST(TextReport, ForkShowsSharedCopiedSplitAndSparkline) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t c = f.child(root, 101, 100 * kMs, 900 * kMs);
    f.episode(c, 64 * kMiB, 24 * kMiB, 20 * kMiB).regions =
        f.tree.episode_regions.keep({{"[heap]", 48 * kMiB, 3 * kMiB, 17 * kMiB, 2 * kMiB, 1 * kMiB},
                                     {"[stack]", 132 * 1024, 8192, 8192, 0, 8192}});
    auto block = block_under(text_of(f.tree), "(101)");
    ASSERT_EQ(block.size(), 3u);
    EXPECT_NE(block[0].find("64.0 MiB shared at fork"), std::string::npos) << block[0];
    EXPECT_NE(block[0].find("copied peak 24.0 MiB (38%), final 20.0 MiB"), std::string::npos)
        << block[0];
    EXPECT_NE(block[0].find("by parent 5.0 MiB, by child 15.0 MiB"), std::string::npos) << block[0];
    EXPECT_NE(block[1].find("copied │"), std::string::npos) << block[1];
    EXPECT_NE(block[1].find("0.100s–0.900s"), std::string::npos) << block[1];
    EXPECT_NE(block[2].find("top regions: [heap] 17.0 MiB of 48.0 MiB, [stack] 8.0 KiB"),
              std::string::npos)
        << block[2];
}

TEST(TextReport, UnknownSplitAndNothingCopiedAreSaidPlainly) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t a = f.child(root, 101, 100 * kMs, 200 * kMs);
    size_t b = f.child(root, 102, 300 * kMs, std::nullopt);
    f.episode(a, 8 * kMiB, 0, 0);
    f.episode(b, 8 * kMiB, 1 * kMiB, 1 * kMiB).split_known = false;
    std::string text = text_of(f.tree, {.show_argv = false, .compact = false});
    auto first = block_under(text, "(101)");
    ASSERT_EQ(first.size(), 1u) << text;
    EXPECT_NE(first[0].find("nothing copied"), std::string::npos);
    auto second = block_under(text, "(102)");
    ASSERT_FALSE(second.empty());
    EXPECT_NE(second[0].find("parent/child split unknown"), std::string::npos) << second[0];
    EXPECT_NE(second[0].find("still open at trace end"), std::string::npos) << second[0];
}

TEST(TextReport, IdenticalForksFoldButAnOutlierStaysVisible) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    size_t big = f.child(root, 101, 100 * kMs, 900 * kMs);
    f.episode(big, 64 * kMiB, 40 * kMiB, 40 * kMiB);
    for (pid_t pid = 102; pid <= 105; ++pid) {
        size_t w = f.child(root, pid, (100 + pid) * kMs, (200 + pid) * kMs);
        f.episode(w, 64 * kMiB, 1 * kMiB + static_cast<uint64_t>(pid) * 1000, 1 * kMiB);
    }
    std::string text = text_of(f.tree);
    EXPECT_NE(text.find("server(101)"), std::string::npos) << text;
    EXPECT_NE(text.find("4*[server]"), std::string::npos) << text;
    EXPECT_NE(text.find("cow ×4"), std::string::npos) << text;
    EXPECT_EQ(text.find("server(103)"), std::string::npos) << text;
    std::string uncompacted = text_of(f.tree, {.show_argv = false, .compact = false});
    EXPECT_NE(uncompacted.find("server(103)"), std::string::npos);
}

TEST(TextReport, HeaderNamesTheLargestCopyAndTheMemoryPeaks) {
    TreeFixture f;
    size_t root = f.root(100, {"server", "--port", "1"});
    size_t c = f.child(root, 101, 100 * kMs, 900 * kMs);
    f.episode(c, 64 * kMiB, 24 * kMiB, 20 * kMiB);
    f.memory(root, 50 * kMs, 80 * kMiB, 70 * kMiB);
    f.memory(c, 60 * kMs, 30 * kMiB, 20 * kMiB);
    std::string text = text_of(f.tree);
    EXPECT_NE(text.find("1 fork episode, the largest copied 24.0 MiB (pid 101)"), std::string::npos)
        << text;
    EXPECT_NE(text.find("tree PSS peaked at 90.0 MiB (0.060s)"), std::string::npos) << text;
    EXPECT_NE(text.find("the largest RSS was 80.0 MiB (server(100))"), std::string::npos) << text;
}

}  // namespace
}  // namespace cowtrace::report

namespace cowtrace::report {
namespace {

TEST(TextReport, AnUnmeasuredChildWhoseParentExitedFirstSaysSoNotShortLived) {
    testing::TreeFixture f;
    size_t launcher = f.root(400, {"redis-server", "--daemonize", "yes"}, 3 * testing::kMs);
    size_t daemon = f.child(launcher, 401, 2 * testing::kMs, 1800 * testing::kMs);
    model::ForkEpisode& e = f.episode(daemon, 0, 0, 0);
    e.census = model::ForkEpisode::Census::kShortLived;
    e.samples = {};
    e.rarities().parent_ended_first_ns = 3 * testing::kMs;
    f.tree.processes[daemon].set_first_image_minor_faults(23842);
    std::ostringstream out;
    write_text(f.tree, {}, out);
    std::string text = out.str();
    EXPECT_NE(text.find("cow: not measured (its parent exited 1.0 ms after the fork, before the "
                        "child's memory was read: nothing stayed shared with it; 23842 minor "
                        "faults)"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("short-lived"), std::string::npos) << text;
}

}  // namespace
}  // namespace cowtrace::report

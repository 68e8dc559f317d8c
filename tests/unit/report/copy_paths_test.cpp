// How the text report and check's messages name the call paths behind an episode's copies.
#include "report/copy_paths.hpp"

#include <gtest/gtest.h>

namespace cowtrace::report {
namespace {

model::CopyPath path(std::vector<std::string> frames, uint64_t bytes,
                     wire::CopySide side = wire::CopySide::kParent) {
    model::CopyPath p;
    p.frames = std::move(frames);
    p.copied_bytes = bytes;
    p.side = side;
    return p;
}

TEST(CopyPaths, PathsThatDifferOnlyBelowTheNamedFramesAreOneLine) {
    model::ForkEpisode e;
    e.rarities().copy_paths = {
        path({"set (kv.c:45)", "main (kv.c:133)", "__libc_start_call_main"}, 80),
        path({"set (kv.c:47)", "main (kv.c:133)", "__libc_start_call_main"}, 5),
        path({"set (kv.c:47)", "main (kv.c:133)", "_start"}, 4),
        path({"set (kv.c:47)", "main (kv.c:133)", "other"}, 11),
    };
    std::vector<std::string> lines = copy_path_lines(e);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "80% set (kv.c:45) ← main (kv.c:133), by the parent");
    EXPECT_EQ(lines[1], "20% set (kv.c:47) ← main (kv.c:133), by the parent");
}

TEST(CopyPaths, TheSamePathBySidesApartStaysApart) {
    model::ForkEpisode e;
    e.rarities().copy_paths = {
        path({"touch (f.c:41)", "main (f.c:83)"}, 50),
        path({"touch (f.c:41)", "main (f.c:83)"}, 50, wire::CopySide::kChild)};
    std::vector<std::string> lines = copy_path_lines(e);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "50% touch (f.c:41) ← main (f.c:83), by the parent");
    EXPECT_EQ(lines[1], "50% touch (f.c:41) ← main (f.c:83), by the child");
}

TEST(CopyPaths, MergedLinesAreOrderedByTheirSum) {
    model::ForkEpisode e;
    e.rarities().copy_paths = {path({"a (x.c:1)", "main"}, 40), path({"b (x.c:2)", "main"}, 30),
                               path({"b (x.c:2)", "main", "deeper"}, 30)};
    std::vector<std::string> top = top_copy_paths(e, 1);
    ASSERT_EQ(top.size(), 1u);
    EXPECT_EQ(top[0], "60% b (x.c:2) ← main, by the parent");
}

TEST(CopyPaths, CopyPrimitivesAreSkippedInTheName) {
    model::ForkEpisode e;
    e.rarities().copy_paths = {path({"__memmove_avx_unaligned_erms", "save (db.c:9)", "main"}, 10)};
    EXPECT_EQ(copy_path_lines(e),
              std::vector<std::string>{"100% save (db.c:9) ← main, by the parent"});
}

}  // namespace
}  // namespace cowtrace::report

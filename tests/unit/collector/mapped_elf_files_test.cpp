// The ELF files the unwinder reads are not trusted: a truncated file, a file that is not ELF, or
// one replaced on disk (another inode) is refused rather than read past its end.
#include "collector/mapped_elf_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace cowtrace::collector {
namespace {

std::string self_path() {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string copy_prefix(const std::string& from, size_t bytes, const char* name) {
    std::ifstream in(from, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string to = ::testing::TempDir() + name;
    std::ofstream out(to, std::ios::binary);
    out.write(data.data(), static_cast<std::streamsize>(std::min(bytes, data.size())));
    return to;
}

TEST(MappedElfFile, ReadsItsOwnExecutablesUnwindTable) {
    auto f = MappedElfFile::open(self_path(), 0);
    ASSERT_NE(f, nullptr);
    ASSERT_TRUE(f->eh_frame_header().has_value());
    EXPECT_GT(f->eh_frame_header()->fde_count, 10u);
    // The header's file offset lies in a loaded segment.
    EXPECT_TRUE(f->vaddr_of_offset(f->eh_frame_header()->offset).has_value());
    uint64_t word = 0;
    EXPECT_FALSE(f->read(UINT64_MAX - 2, &word, sizeof word));
}

TEST(MappedElfFile, RefusesAnotherInode) {
    struct stat st {};
    ASSERT_EQ(stat(self_path().c_str(), &st), 0);
    EXPECT_NE(MappedElfFile::open(self_path(), st.st_ino), nullptr);
    EXPECT_EQ(MappedElfFile::open(self_path(), st.st_ino + 1), nullptr);
}

TEST(MappedElfFile, RefusesWhatIsNotWholeElf) {
    std::string truncated = copy_prefix(self_path(), 100, "truncated_elf");
    EXPECT_EQ(MappedElfFile::open(truncated, 0), nullptr);
    std::string text = ::testing::TempDir() + "not_elf";
    std::ofstream(text) << std::string(4096, 'x');
    EXPECT_EQ(MappedElfFile::open(text, 0), nullptr);
    EXPECT_EQ(MappedElfFile::open("/nonexistent/file", 0), nullptr);
    // Cut inside the program headers' targets: opened, but nothing read past the end.
    std::string half = copy_prefix(self_path(), 8192, "half_elf");
    if (auto f = MappedElfFile::open(half, 0)) {
        uint64_t word = 0;
        EXPECT_FALSE(f->read(8190, &word, sizeof word));
        if (f->eh_frame_header()) {
            EXPECT_LT(f->eh_frame_header()->offset, 8192u);
        }
    }
}

}  // namespace
}  // namespace cowtrace::collector

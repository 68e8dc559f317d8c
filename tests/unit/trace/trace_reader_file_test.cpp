// TraceReader::open on real files, plain and compressed: errors name the path, and an empty
// file (a collector killed before it wrote anything) is refused rather than mapped.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "compressed_trace.hpp"
#include "trace/trace_reader.hpp"
#include "trace_builder.hpp"

namespace cowtrace {
namespace {

using testing::compress_trace;
using testing::TraceBuilder;

// A private directory for the test's files, removed with its files afterwards.
class TraceReaderFile : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/cowtrace-unit-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        for (const auto& f : files_) unlink(f.c_str());
        rmdir(dir_.c_str());
    }
    std::string write_file(const std::string& name, const std::vector<uint8_t>& bytes) {
        std::string path = dir_ + "/" + name;
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()),
                   static_cast<std::streamsize>(bytes.size()));
        files_.push_back(path);
        return path;
    }
    std::string dir_;
    std::vector<std::string> files_;
};

TEST_F(TraceReaderFile, OpenReadsTheRecordsOfAFile) {
    TraceBuilder b;
    b.trace_start(10, 11, 5, 5).kernel_exit(11, 9, 0);
    std::string path = write_file("ok.bin", b.file());
    TraceReader reader;
    ASSERT_TRUE(reader.open(path)) << reader.error();
    RawRecord rec;
    int n = 0;
    while (reader.next(rec)) ++n;
    EXPECT_EQ(n, 2);
    EXPECT_EQ(reader.error(), "");
}

TEST_F(TraceReaderFile, ZeroLengthFileIsRefusedNamingThePath) {
    std::string path = write_file("empty.bin", {});
    TraceReader reader;
    EXPECT_FALSE(reader.open(path));
    EXPECT_EQ(reader.error().rfind(path + ": ", 0), 0u) << reader.error();
    EXPECT_NE(reader.error().find("empty"), std::string::npos) << reader.error();
}

TEST_F(TraceReaderFile, MissingFileIsRefusedNamingThePath) {
    TraceReader reader;
    std::string path = dir_ + "/missing.bin";
    EXPECT_FALSE(reader.open(path));
    EXPECT_EQ(reader.error(), path + ": No such file or directory");
}

TEST_F(TraceReaderFile, DirectoryIsRefusedAsNotARegularFile) {
    TraceReader reader;
    EXPECT_FALSE(reader.open(dir_));
    EXPECT_EQ(reader.error(), dir_ + ": not a regular file");
}

TEST_F(TraceReaderFile, DamagedFileYieldsItsValidRecordsThenTheOffset) {
    TraceBuilder b;
    b.trace_start(10, 11, 5, 5);
    auto bytes = b.file();
    size_t end = bytes.size();
    bytes.resize(end + 40, 0xff);
    std::string path = write_file("damaged.bin", bytes);
    TraceReader reader;
    ASSERT_TRUE(reader.open(path)) << reader.error();
    RawRecord rec;
    EXPECT_TRUE(reader.next(rec));
    EXPECT_FALSE(reader.next(rec));
    EXPECT_NE(reader.error().find("at offset " + std::to_string(end)), std::string::npos)
        << reader.error();
}

TEST_F(TraceReaderFile, OpenReadsTheRecordsOfACompressedFile) {
    TraceBuilder b;
    b.trace_start(10, 11, 5, 5).kernel_exit(11, 9, 0);
    std::string path = write_file("ok.v2", compress_trace(b.file()).bytes);
    TraceReader reader;
    ASSERT_TRUE(reader.open(path)) << reader.error();
    EXPECT_EQ(reader.format_version(), 2u);
    RawRecord rec;
    std::vector<uint16_t> types;
    while (reader.next(rec)) types.push_back(rec.header.type);
    EXPECT_EQ(types, (std::vector<uint16_t>{1, 12}));
    EXPECT_EQ(reader.error(), "");
}

TEST_F(TraceReaderFile, DamagedCompressedFileYieldsItsValidRecordsThenTheOffset) {
    TraceBuilder b;
    b.trace_start(10, 11, 5, 5);
    auto plain = b.file();
    auto bytes = compress_trace(plain).bytes;
    bytes.resize(bytes.size() + 40, 0xff);
    std::string path = write_file("damaged.v2", bytes);
    TraceReader reader;
    ASSERT_TRUE(reader.open(path)) << reader.error();
    RawRecord rec;
    EXPECT_TRUE(reader.next(rec));
    EXPECT_FALSE(reader.next(rec));
    EXPECT_NE(reader.error().find("damaged: nothing decompresses after offset " +
                                  std::to_string(plain.size())),
              std::string::npos)
        << reader.error();
}

}  // namespace
}  // namespace cowtrace

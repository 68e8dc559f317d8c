// TraceReader on the 16-byte file header: anything that is not a cowtrace trace this version
// can read is refused with a message saying why, before any record is trusted.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "trace/trace_file_versions.hpp"
#include "trace/trace_reader.hpp"
#include "trace_builder.hpp"

namespace cowtrace {
namespace {

using testing::TraceBuilder;

TEST(TraceReaderHeader, HeaderAloneIsAValidEmptyTrace) {
    auto bytes = TraceBuilder::file_header();
    TraceReader reader;
    ASSERT_TRUE(reader.open_buffer(bytes.data(), bytes.size())) << reader.error();
    EXPECT_EQ(reader.format_version(), wire::kFormatVersion);
    RawRecord rec;
    EXPECT_FALSE(reader.next(rec));
    EXPECT_EQ(reader.error(), "");
}

TEST(TraceReaderHeader, BadMagicIsRefused) {
    auto bytes = TraceBuilder::file_header();
    bytes[0] = 'X';
    TraceReader reader;
    EXPECT_FALSE(reader.open_buffer(bytes.data(), bytes.size()));
    EXPECT_NE(reader.error().find("bad magic"), std::string::npos) << reader.error();
}

TEST(TraceReaderHeader, NewerFormatVersionIsRefusedNamingTheVersion) {
    auto bytes = TraceBuilder::file_header(kNewestTraceVersion + 1);
    TraceReader reader;
    EXPECT_FALSE(reader.open_buffer(bytes.data(), bytes.size()));
    EXPECT_NE(reader.error().find("version 3 is not supported (this cowtrace reads up to 2)"),
              std::string::npos)
        << reader.error();
}

TEST(TraceReaderHeader, CompressedHeaderAloneIsAValidEmptyTrace) {
    auto bytes = TraceBuilder::file_header(kCompressedTraceVersion);
    TraceReader reader;
    ASSERT_TRUE(reader.open_buffer(bytes.data(), bytes.size())) << reader.error();
    EXPECT_EQ(reader.format_version(), 2u);
    RawRecord rec;
    EXPECT_FALSE(reader.next(rec));
    EXPECT_EQ(reader.error(), "");
}

TEST(TraceReaderHeader, VersionZeroIsRefused) {
    auto bytes = TraceBuilder::file_header(0);
    TraceReader reader;
    EXPECT_FALSE(reader.open_buffer(bytes.data(), bytes.size()));
    EXPECT_NE(reader.error().find("version 0"), std::string::npos) << reader.error();
}

TEST(TraceReaderHeader, HeaderSizeBelowSixteenIsRefused) {
    auto bytes = TraceBuilder::file_header(wire::kFormatVersion, 8);
    TraceReader reader;
    EXPECT_FALSE(reader.open_buffer(bytes.data(), bytes.size()));
    EXPECT_NE(reader.error().find("bad file header size 8"), std::string::npos) << reader.error();
}

TEST(TraceReaderHeader, HeaderSizeBeyondTheFileIsRefused) {
    auto bytes = TraceBuilder::file_header(wire::kFormatVersion, 4096);
    TraceReader reader;
    EXPECT_FALSE(reader.open_buffer(bytes.data(), bytes.size()));
    EXPECT_NE(reader.error().find("bad file header size 4096"), std::string::npos)
        << reader.error();
}

TEST(TraceReaderHeader, LongerHeaderIsSkippedToTheFirstRecord) {
    // A later version may grow the header; records start at its declared size.
    TraceBuilder b;
    b.exit(7, 100, wire::ExitHow::kExit, 0);
    auto bytes = TraceBuilder::file_header(wire::kFormatVersion, 24);
    bytes.resize(24, 0xee);
    auto body = b.file();
    bytes.insert(bytes.end(), body.begin() + wire::kFileHeaderSize, body.end());
    TraceReader reader;
    ASSERT_TRUE(reader.open_buffer(bytes.data(), bytes.size())) << reader.error();
    RawRecord rec;
    ASSERT_TRUE(reader.next(rec)) << reader.error();
    EXPECT_EQ(rec.offset, 24u);
    EXPECT_EQ(rec.header.pid, 7);
}

TEST(TraceReaderHeader, TruncatedHeaderIsRefusedAsTruncated) {
    auto bytes = TraceBuilder::file_header();
    bytes.resize(10);  // the magic is there, the version only half
    TraceReader reader;
    EXPECT_FALSE(reader.open_buffer(bytes.data(), bytes.size()));
    EXPECT_NE(reader.error().find("truncated file header"), std::string::npos) << reader.error();
}

TEST(TraceReaderHeader, ZeroLengthInputIsRefusedAsEmpty) {
    TraceReader reader;
    EXPECT_FALSE(reader.open_buffer(nullptr, 0));
    EXPECT_NE(reader.error().find("empty"), std::string::npos) << reader.error();
}

TEST(TraceReaderHeader, ShortInputThatIsNotATraceIsRefusedAsBadMagic) {
    const uint8_t text[] = "hello\n";
    TraceReader reader;
    EXPECT_FALSE(reader.open_buffer(text, sizeof text - 1));
    EXPECT_NE(reader.error().find("bad magic"), std::string::npos) << reader.error();
}

}  // namespace
}  // namespace cowtrace

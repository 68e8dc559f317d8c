// TraceReader on the records: every length is checked against the format's limits and the file
// before use, and the first bad one ends the valid part with an error naming its offset. Each
// test runs on the plain file and on the same records compressed (version 2), whose offsets
// count the decompressed records: the messages are the same.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "compressed_trace.hpp"
#include "trace/trace_reader.hpp"
#include "trace_builder.hpp"

namespace cowtrace {
namespace {

using testing::compress_trace;
using testing::TraceBuilder;

// Three valid records; returns the file bytes.
std::vector<uint8_t> three_records() {
    TraceBuilder b;
    b.trace_start(100, 101, 1000, 1000)
        .hello(101, 2000, 100, "/bin/true", {"true"})
        .kernel_exit(101, 3000, 0);
    return b.file();
}

struct ReadResult {
    std::vector<RawRecord> records;
    std::string error;
};

ReadResult read_file(const std::vector<uint8_t>& bytes) {
    ReadResult out;
    TraceReader reader;
    if (!reader.open_buffer(bytes.data(), bytes.size())) {
        out.error = reader.error();
        return out;
    }
    RawRecord rec;
    while (reader.next(rec)) out.records.push_back(rec);
    out.error = reader.error();
    return out;
}

// The records of a plain file, read from it or from it compressed (the test's parameter). A
// compressed file's records point into its reader, so the reader lives as long as the test.
class TraceReaderRecords : public ::testing::TestWithParam<uint32_t> {
protected:
    ReadResult read_all(const std::vector<uint8_t>& plain) {
        if (GetParam() == 1) return read_file(plain);
        compressed_ = compress_trace(plain).bytes;
        ReadResult out;
        reader_ = std::make_unique<TraceReader>();
        if (!reader_->open_buffer(compressed_.data(), compressed_.size())) {
            out.error = reader_->error();
            return out;
        }
        EXPECT_EQ(reader_->format_version(), 2u);
        RawRecord rec;
        while (reader_->next(rec)) out.records.push_back(rec);
        out.error = reader_->error();
        return out;
    }
    std::vector<uint8_t> compressed_;
    std::unique_ptr<TraceReader> reader_;
};

void set_size_at(std::vector<uint8_t>& bytes, size_t offset, uint32_t size) {
    memcpy(bytes.data() + offset, &size, 4);
}

TEST_P(TraceReaderRecords, ValidRecordsAreReadInFileOrderWithTheirOffsets) {
    auto bytes = three_records();
    ReadResult got = read_all(bytes);
    EXPECT_EQ(got.error, "");
    ASSERT_EQ(got.records.size(), 3u);
    EXPECT_EQ(got.records[0].header.type, static_cast<uint16_t>(wire::RecordType::kTraceStart));
    EXPECT_EQ(got.records[1].header.type, static_cast<uint16_t>(wire::RecordType::kHello));
    EXPECT_EQ(got.records[2].header.type, static_cast<uint16_t>(wire::RecordType::kKernelExit));
    EXPECT_EQ(got.records[0].offset, wire::kFileHeaderSize);
    EXPECT_EQ(got.records[1].offset, got.records[0].offset + got.records[0].header.size);
    EXPECT_EQ(got.records[2].payload.size(),
              got.records[2].header.size - sizeof(wire::RecordHeader));
    EXPECT_EQ(got.records[2].offset + got.records[2].header.size, bytes.size());
}

TEST(TraceReaderPlainRecords, PayloadViewsPointIntoTheBuffer) {
    auto bytes = three_records();
    ReadResult got = read_file(bytes);
    ASSERT_EQ(got.records.size(), 3u);
    const RawRecord& r = got.records[2];
    EXPECT_EQ(r.payload.data(), bytes.data() + r.offset + sizeof(wire::RecordHeader));
}

TEST_P(TraceReaderRecords, RecordSmallerThanItsHeaderEndsTheValidPartAtItsOffset) {
    auto bytes = three_records();
    size_t second = read_all(bytes).records[1].offset;
    set_size_at(bytes, second, 31);
    ReadResult got = read_all(bytes);
    EXPECT_EQ(got.records.size(), 1u);
    EXPECT_EQ(got.error, "corrupt record length 31 at offset " + std::to_string(second));
}

TEST_P(TraceReaderRecords, ZeroRecordSizeCannotLoopForever) {
    auto bytes = three_records();
    set_size_at(bytes, wire::kFileHeaderSize, 0);
    ReadResult got = read_all(bytes);
    EXPECT_TRUE(got.records.empty());
    EXPECT_EQ(got.error, "corrupt record length 0 at offset 16");
}

TEST_P(TraceReaderRecords, RecordLargerThanTheFormatLimitEndsTheValidPart) {
    auto bytes = three_records();
    size_t second = read_all(bytes).records[1].offset;
    set_size_at(bytes, second, wire::kMaxRecordSize + 1);
    ReadResult got = read_all(bytes);
    EXPECT_EQ(got.records.size(), 1u);
    EXPECT_EQ(got.error, "corrupt record length " + std::to_string(wire::kMaxRecordSize + 1) +
                             " at offset " + std::to_string(second));
}

TEST_P(TraceReaderRecords, RecordOfExactlyTheFormatLimitIsAccepted) {
    std::vector<uint8_t> bytes = TraceBuilder::file_header();
    bytes.resize(wire::kFileHeaderSize + wire::kMaxRecordSize, 0);
    set_size_at(bytes, wire::kFileHeaderSize, wire::kMaxRecordSize);
    ReadResult got = read_all(bytes);
    EXPECT_EQ(got.error, "");
    ASSERT_EQ(got.records.size(), 1u);
    EXPECT_EQ(got.records[0].payload.size(), wire::kMaxRecordSize - sizeof(wire::RecordHeader));
}

TEST_P(TraceReaderRecords, RecordLongerThanWhatIsLeftOfTheFileEndsTheValidPart) {
    auto bytes = three_records();
    ReadResult whole = read_all(bytes);
    size_t last = whole.records[2].offset;
    bytes.pop_back();  // the writer was stopped mid-record
    ReadResult got = read_all(bytes);
    EXPECT_EQ(got.records.size(), 2u);
    EXPECT_NE(got.error.find("truncated record at offset " + std::to_string(last)),
              std::string::npos)
        << got.error;
}

TEST_P(TraceReaderRecords, RecordHeaderCutShortEndsTheValidPart) {
    auto bytes = three_records();
    size_t end = bytes.size();
    bytes.resize(end + 20, 0);  // 20 bytes of a next record header
    ReadResult got = read_all(bytes);
    EXPECT_EQ(got.records.size(), 3u);
    EXPECT_EQ(got.error, "truncated record header at offset " + std::to_string(end));
}

TEST_P(TraceReaderRecords, ValidPrefixThenGarbageYieldsThePrefixAndTheGarbageOffset) {
    auto bytes = three_records();
    size_t end = bytes.size();
    for (int i = 0; i < 100; ++i) bytes.push_back(static_cast<uint8_t>(0xf0 ^ i));
    ReadResult got = read_all(bytes);
    EXPECT_EQ(got.records.size(), 3u);
    EXPECT_NE(got.error.find("at offset " + std::to_string(end)), std::string::npos) << got.error;
}

TEST_P(TraceReaderRecords, ReaderStaysStoppedAfterAnError) {
    auto bytes = three_records();
    set_size_at(bytes, wire::kFileHeaderSize, 5);
    if (GetParam() == 2) bytes = compress_trace(bytes).bytes;
    TraceReader reader;
    ASSERT_TRUE(reader.open_buffer(bytes.data(), bytes.size()));
    RawRecord rec;
    EXPECT_FALSE(reader.next(rec));
    EXPECT_FALSE(reader.next(rec));
    EXPECT_NE(reader.error(), "");
}

INSTANTIATE_TEST_SUITE_P(BothVersions, TraceReaderRecords, ::testing::Values(1u, 2u),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                             return info.param == 1 ? "Plain" : "Compressed";
                         });

}  // namespace
}  // namespace cowtrace

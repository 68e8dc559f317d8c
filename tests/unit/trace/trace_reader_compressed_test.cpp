// TraceReader on compressed (version 2) files where the zstd stream itself is cut or damaged:
// the records that decompressed whole are read, and the error says where they end and that the
// file is cut or damaged. A file that stops right after a flush (a killed collector) reads like
// a plain file cut between two records: whole, without error.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "compressed_trace.hpp"
#include "trace/trace_reader.hpp"
#include "trace_builder.hpp"

namespace cowtrace {
namespace {

using testing::compress_trace;
using testing::CompressedTrace;
using testing::TraceBuilder;

struct ReadResult {
    std::vector<uint64_t> offsets;  // of the records read
    std::string error;
};

ReadResult read_all(const std::vector<uint8_t>& bytes) {
    ReadResult out;
    TraceReader reader;
    if (!reader.open_buffer(bytes.data(), bytes.size())) {
        out.error = reader.error();
        return out;
    }
    RawRecord rec;
    while (reader.next(rec)) out.offsets.push_back(rec.offset);
    out.error = reader.error();
    return out;
}

// 300 processes' worth of records (901); returns the plain file and the offset of every
// record.
std::vector<uint8_t> many_records(std::vector<size_t>& offsets) {
    TraceBuilder b;
    b.trace_start(100, 101, 1000, 1000);
    for (int i = 0; i < 300; ++i) {
        int pid = 200 + i;
        uint64_t t = 2000 + 100 * i;
        b.created(101, t, wire::CreateHow::kFork, pid, {0x401000, 0x402000u + i})
            .hello(pid, t + 1, 101, "/bin/true", {"true", std::to_string(i)})
            .kernel_exit(pid, t + 2, 0);
    }
    offsets.clear();
    for (const RawRecord& r : b.records()) offsets.push_back(r.offset);
    return b.file();
}

// Flushes before records 100, 200, …, as a collector does every 200 ms: each flush is one
// zstd block (a flush of more than 128 KiB makes several).
CompressedTrace flushed_every_100(std::vector<size_t>& offsets) {
    auto plain = many_records(offsets);
    std::vector<size_t> flush_at;
    for (size_t i = 100; i < offsets.size(); i += 100) flush_at.push_back(offsets[i]);
    return compress_trace(plain, flush_at);
}

TEST(TraceReaderCompressed, RecordsAndOffsetsAreThoseOfThePlainFile) {
    std::vector<size_t> offsets;
    auto plain = many_records(offsets);
    CompressedTrace v2 = compress_trace(plain, {offsets[100]});
    EXPECT_LT(v2.bytes.size() * 4, plain.size()) << "records compress at least fourfold";
    TraceReader a, b;
    ASSERT_TRUE(a.open_buffer(plain.data(), plain.size()));
    ASSERT_TRUE(b.open_buffer(v2.bytes.data(), v2.bytes.size()));
    EXPECT_EQ(b.format_version(), 2u);
    RawRecord ra, rb;
    size_t n = 0;
    while (a.next(ra)) {
        ASSERT_TRUE(b.next(rb)) << b.error();
        EXPECT_EQ(rb.offset, ra.offset);
        EXPECT_EQ(0, memcmp(&rb.header, &ra.header, sizeof ra.header));
        ASSERT_EQ(rb.payload.size(), ra.payload.size());
        EXPECT_TRUE(std::equal(rb.payload.begin(), rb.payload.end(), ra.payload.begin()));
        ++n;
    }
    EXPECT_FALSE(b.next(rb));
    EXPECT_EQ(b.error(), "");
    EXPECT_EQ(n, offsets.size());
}

TEST(TraceReaderCompressed, FileStoppingAfterAFlushReadsWholeWithoutError) {
    // A collector killed after a flush: its frame is never ended.
    std::vector<size_t> offsets;
    CompressedTrace v2 = flushed_every_100(offsets);
    for (size_t i = 0; i < v2.flush_ends.size(); ++i) {
        std::vector<uint8_t> cut(v2.bytes.begin(), v2.bytes.begin() + v2.flush_ends[i]);
        ReadResult got = read_all(cut);
        EXPECT_EQ(got.error, "") << "flush " << i;
        EXPECT_EQ(got.offsets.size(), 100 * (i + 1)) << "flush " << i;
    }
    std::vector<uint8_t> unended = compress_trace(many_records(offsets), {}, false).bytes;
    ReadResult got = read_all(unended);
    EXPECT_EQ(got.error, "");
    EXPECT_EQ(got.offsets.size(), offsets.size());
}

TEST(TraceReaderCompressed, FileCutAnywhereElseSaysItIsCutAfterTheRecordsThatDecompressed) {
    std::vector<size_t> offsets;
    CompressedTrace v2 = flushed_every_100(offsets);
    size_t first_cut = wire::kFileHeaderSize + 1;
    // Every byte near the frame's start and each flush's end, every 7th elsewhere: each cut is
    // a whole decompression (byte by byte past the damage), and all of them took 28 s under ASan.
    auto near_a_flush_end = [&](size_t len) {
        return std::any_of(v2.flush_ends.begin(), v2.flush_ends.end(),
                           [len](size_t end) { return len + 8 >= end && len <= end + 8; });
    };
    for (size_t len = first_cut; len < v2.bytes.size(); ++len) {
        if (std::find(v2.flush_ends.begin(), v2.flush_ends.end(), len) != v2.flush_ends.end())
            continue;
        if (len > first_cut + 64 && !near_a_flush_end(len) && len % 7 != 0) continue;
        std::vector<uint8_t> cut(v2.bytes.begin(), v2.bytes.begin() + len);
        ReadResult got = read_all(cut);
        if (got.error.empty()) {
            // Only right after the frame header (at most 18 bytes): no block begun, nothing
            // lost that the file could tell.
            ASSERT_LE(len, wire::kFileHeaderSize + 18) << "cut at " << len;
            ASSERT_TRUE(got.offsets.empty()) << "cut at " << len;
            continue;
        }
        ASSERT_NE(got.error.find("the compressed file is cut: nothing decompresses after offset"),
                  std::string::npos)
            << "cut at " << len << ": " << got.error;
        // What was read is a prefix of the records, at their offsets.
        ASSERT_LE(got.offsets.size(), offsets.size());
        for (size_t i = 0; i < got.offsets.size(); ++i) ASSERT_EQ(got.offsets[i], offsets[i]);
    }
}

TEST(TraceReaderCompressed, RecordCutByTheStreamsEndIsNamedWithItsOffset) {
    // One flush in the middle of a record (no writer does this): a cut after it ends the
    // decompressed bytes mid-record.
    std::vector<size_t> offsets;
    auto plain = many_records(offsets);
    CompressedTrace v2 = compress_trace(plain, {offsets[5] + 40}, false);
    std::vector<uint8_t> cut(v2.bytes.begin(), v2.bytes.begin() + v2.flush_ends[0] + 2);
    ReadResult got = read_all(cut);
    EXPECT_EQ(got.offsets.size(), 5u);
    EXPECT_NE(got.error.find("truncated record at offset " + std::to_string(offsets[5])),
              std::string::npos)
        << got.error;
    EXPECT_NE(
        got.error.find("cut: nothing decompresses after offset " + std::to_string(offsets[5] + 40)),
        std::string::npos)
        << got.error;
}

TEST(TraceReaderCompressed, DamagedBlockSaysDamagedAfterTheRecordsBeforeIt) {
    std::vector<size_t> offsets;
    CompressedTrace v2 = flushed_every_100(offsets);
    // A Block_Header of the reserved type 3 where the second flush's blocks begin.
    std::fill(v2.bytes.begin() + v2.flush_ends[0], v2.bytes.begin() + v2.flush_ends[0] + 3, 0xff);
    ReadResult got = read_all(v2.bytes);
    EXPECT_EQ(got.offsets.size(), 100u);
    EXPECT_NE(got.error.find("the compressed file is damaged: nothing decompresses after offset " +
                             std::to_string(offsets[100]) + " (zstd: "),
              std::string::npos)
        << got.error;
}

TEST(TraceReaderCompressed, StreamInflatingAThousandfoldIsStoppedAsDamaged) {
    // 64 MiB of zero bytes compress to a few kilobytes: no trace looks like this, and a reader
    // that believed it would fill memory.
    std::vector<uint8_t> zeros(wire::kFileHeaderSize + (64u << 20), 0);
    std::vector<uint8_t> bytes = compress_trace(zeros).bytes;
    ASSERT_LT(bytes.size(), 64u * 1024);
    ReadResult got = read_all(bytes);
    EXPECT_TRUE(got.offsets.empty());
    EXPECT_NE(got.error.find("corrupt record length 0 at offset 16"), std::string::npos)
        << got.error;
    EXPECT_NE(got.error.find("inflates more than 1000-fold"), std::string::npos) << got.error;
}

}  // namespace
}  // namespace cowtrace

// TraceWriter: the collector's trace is compressed (version 2) and reads back record for record;
// each flush leaves a file that reads whole (a collector killed next loses nothing flushed);
// a write that fails (a full disk, here a file-size limit) loses only its own records, and what
// is written once there is room again still reads.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "trace/trace_reader.hpp"
#include "trace/trace_writer.hpp"
#include "trace_builder.hpp"

namespace cowtrace {
namespace {

using testing::TraceBuilder;
using Bytes = std::vector<uint8_t>;

class TraceWriterFile : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/cowtrace-unit-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/t.trace";
    }
    void TearDown() override {
        unlink(path_.c_str());
        unlink((path_ + ".2").c_str());
        rmdir(dir_.c_str());
    }
    static Bytes file_bytes(const std::string& path) {
        std::ifstream f(path, std::ios::binary);
        return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    struct Read {
        std::vector<uint64_t> t_ns;  // each record's, in order
        std::string error;
        uint32_t version = 0;
    };
    static Read read(const Bytes& bytes) {
        Read out;
        TraceReader reader;
        if (!reader.open_buffer(bytes.data(), bytes.size())) {
            out.error = reader.error();
            return out;
        }
        out.version = reader.format_version();
        RawRecord rec;
        while (reader.next(rec)) out.t_ns.push_back(rec.header.t_ns);
        out.error = reader.error();
        return out;
    }
    // Records of short-lived processes, t_ns from..from+n-1: they repeat, as real ones do.
    static TraceBuilder processes(uint64_t from, int n) {
        TraceBuilder b;
        for (int i = 0; i < n; ++i) {
            b.hello(1000 + i, from + i, 1, "/usr/bin/true", {"true", "--version"});
        }
        return b;
    }
    // Records that do not compress (random payloads), t_ns from..from+n-1.
    static TraceBuilder noise(uint64_t from, int n, size_t payload_bytes) {
        std::mt19937_64 random(from);
        TraceBuilder b;
        for (int i = 0; i < n; ++i) {
            Bytes payload(payload_bytes);
            for (auto& byte : payload) byte = static_cast<uint8_t>(random());
            b.raw(999, 7, from + i, payload);
        }
        return b;
    }
    static void append(TraceWriter& w, const TraceBuilder& b) {
        for (const RawRecord& r : b.records()) {
            w.append(r.payload.data() - sizeof r.header, r.header.size);
        }
    }
    static std::vector<uint64_t> range(uint64_t from, int n) {
        std::vector<uint64_t> out;
        for (int i = 0; i < n; ++i) out.push_back(from + i);
        return out;
    }
    std::string dir_, path_;
};

TEST_F(TraceWriterFile, TraceIsCompressedAndReadsBackRecordForRecord) {
    TraceBuilder b = processes(100, 1000);
    size_t plain_bytes = b.file().size();
    {
        TraceWriter w;
        std::string error;
        ASSERT_TRUE(w.open(path_, error)) << error;
        append(w, b);
        ASSERT_TRUE(w.close(error)) << error;
    }
    Bytes bytes = file_bytes(path_);
    EXPECT_LT(bytes.size() * 10, plain_bytes) << "1000 alike records compress tenfold";
    Read got = read(bytes);
    EXPECT_EQ(got.version, 2u);
    EXPECT_EQ(got.error, "");
    EXPECT_EQ(got.t_ns, range(100, 1000));
}

TEST_F(TraceWriterFile, FlushedFileReadsWholeWhileTheWriterIsStillOpen) {
    TraceWriter w;
    std::string error;
    ASSERT_TRUE(w.open(path_, error)) << error;
    append(w, processes(100, 50));
    ASSERT_TRUE(w.flush());
    Bytes first = file_bytes(path_);
    EXPECT_EQ(w.bytes_written(), first.size());
    append(w, processes(200, 50));
    EXPECT_EQ(file_bytes(path_), first) << "appending alone writes nothing";
    w.flush_if_older(1'000'000'000, 200'000'000);
    Bytes second = file_bytes(path_);
    // As a collector killed after either flush leaves its trace.
    Read got = read(first);
    EXPECT_EQ(got.error, "");
    EXPECT_EQ(got.t_ns, range(100, 50));
    got = read(second);
    EXPECT_EQ(got.error, "");
    std::vector<uint64_t> want = range(100, 50);
    for (uint64_t t : range(200, 50)) want.push_back(t);
    EXPECT_EQ(got.t_ns, want);
}

TEST_F(TraceWriterFile, BytesWrittenCountsCompressedBytesAndEstimatesTheBuffer) {
    TraceWriter w;
    std::string error;
    ASSERT_TRUE(w.open(path_, error)) << error;
    TraceBuilder b = processes(100, 2000);
    append(w, b);
    ASSERT_TRUE(w.flush());
    uint64_t on_disk = file_bytes(path_).size();
    EXPECT_EQ(w.bytes_written(), on_disk);
    EXPECT_LT(on_disk * 10, b.file().size());
    append(w, b);  // buffered: counted at the ratio so far, not at its plain size
    EXPECT_GT(w.bytes_written(), on_disk);
    EXPECT_LT(w.bytes_written(), on_disk * 3);
}

TEST_F(TraceWriterFile, RecordsOfAFailedWriteAreLostAloneAndLaterOnesStillRead) {
    // A file-size limit stands in for a full disk: write(2) fails with EFBIG (SIGXFSZ ignored).
    struct rlimit before {};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &before), 0);
    signal(SIGXFSZ, SIG_IGN);
    TraceWriter w;
    std::string error;
    ASSERT_TRUE(w.open(path_, error)) << error;
    append(w, processes(100, 20));
    ASSERT_TRUE(w.flush());
    uint64_t room = file_bytes(path_).size() + 1000;
    struct rlimit small = before;
    small.rlim_cur = room;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    // Twice more than there is room for, each time partly written before the write fails.
    append(w, noise(1000, 10, 200));
    EXPECT_FALSE(w.flush());
    append(w, noise(2000, 10, 200));
    EXPECT_FALSE(w.flush());
    EXPECT_EQ(file_bytes(path_).size(), room - 1000) << "cut back to the last whole flush";
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &before), 0);
    append(w, processes(300, 20));
    EXPECT_FALSE(w.close(error)) << "the trace is incomplete and close says so";
    EXPECT_NE(error.find("could not be written"), std::string::npos) << error;
    EXPECT_EQ(w.bytes_lost(), 2 * 10 * (sizeof(wire::RecordHeader) + 200));
    Read got = read(file_bytes(path_));
    EXPECT_EQ(got.error, "");
    std::vector<uint64_t> want = range(100, 20);
    for (uint64_t t : range(300, 20)) want.push_back(t);
    EXPECT_EQ(got.t_ns, want);
}

TEST_F(TraceWriterFile, NextFileOfARotationIsATraceOfItsOwn) {
    TraceWriter w;
    std::string error;
    ASSERT_TRUE(w.open(path_, error)) << error;
    append(w, processes(100, 30));
    ASSERT_TRUE(w.flush());
    ASSERT_TRUE(w.close(error)) << error;
    ASSERT_TRUE(w.open(path_ + ".2", error)) << error;
    append(w, processes(500, 30));
    ASSERT_TRUE(w.close(error)) << error;
    Read got = read(file_bytes(path_ + ".2"));
    EXPECT_EQ(got.error, "");
    EXPECT_EQ(got.t_ns, range(500, 30));
    EXPECT_EQ(read(file_bytes(path_)).t_ns, range(100, 30));
}

}  // namespace
}  // namespace cowtrace

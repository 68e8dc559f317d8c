// WireReader: bounds-checked decoding. A field past the end reads as its default (that is how
// appended fields stay optional); a length that points past the end marks the record malformed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wire/wire_reader.hpp"
#include "wire/wire_writer.hpp"

namespace cowtrace::wire {
namespace {

constexpr size_t kHeader = sizeof(RecordHeader);

// The payload of a record filled by fill().
template <class Fill>
std::vector<uint8_t> payload(Fill&& fill) {
    std::vector<uint8_t> buf(4096);
    WireWriter w(buf.data(), buf.size());
    fill(w);
    size_t n = w.finish(RecordType::kHello, 0, 1, 1, 0, 0);
    EXPECT_NE(n, 0u);
    return {buf.begin() + kHeader, buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

TEST(WireReader, EveryFieldTypeReadsBackWhatWasWritten) {
    const char* argv[] = {"a", "", "ccc", nullptr};
    uint64_t frames[] = {0xdeadbeef, 0};
    auto bytes = payload([&](WireWriter& w) {
        w.u8(200);
        w.u16(60000);
        w.u32(4000000000u);
        w.i32(-123456);
        w.u64(0xfedcba9876543210ull);
        w.i64(-1);
        w.cstr("path");
        w.strlist(argv, 4096);
        w.u64list(frames, 2);
    });
    WireReader r(bytes.data(), bytes.size());
    EXPECT_EQ(r.u8(), 200);
    EXPECT_EQ(r.u16(), 60000);
    EXPECT_EQ(r.u32(), 4000000000u);
    EXPECT_EQ(r.i32(), -123456);
    EXPECT_EQ(r.u64(), 0xfedcba9876543210ull);
    EXPECT_EQ(r.i64(), -1);
    EXPECT_EQ(r.str(), "path");
    std::vector<std::string> list;
    EXPECT_FALSE(r.strlist([&](std::string_view s) { list.emplace_back(s); }));
    EXPECT_EQ(list, (std::vector<std::string>{"a", "", "ccc"}));
    std::vector<uint64_t> got;
    r.u64list([&](uint64_t v) { got.push_back(v); });
    EXPECT_EQ(got, (std::vector<uint64_t>{0xdeadbeef, 0}));
    EXPECT_FALSE(r.exhausted());
    EXPECT_FALSE(r.malformed());
    EXPECT_EQ(r.position(), bytes.size());
}

TEST(WireReader, FieldPastTheEndReadsAsItsDefaultWithoutBeingMalformed) {
    auto bytes = payload([](WireWriter& w) { w.u32(7); });
    WireReader r(bytes.data(), bytes.size());
    EXPECT_EQ(r.u32(), 7u);
    EXPECT_EQ(r.i32(-1), -1);
    EXPECT_EQ(r.u64(), 0u);
    EXPECT_EQ(r.str(), "");
    EXPECT_FALSE(r.strlist([](std::string_view) { FAIL() << "no strings past the end"; }));
    EXPECT_TRUE(r.exhausted());
    EXPECT_FALSE(r.malformed());
}

TEST(WireReader, EmptyPayloadReadsEveryFieldAsDefault) {
    WireReader r(nullptr, 0);
    EXPECT_EQ(r.u8(9), 9);
    EXPECT_EQ(r.u64(), 0u);
    EXPECT_TRUE(r.exhausted());
    EXPECT_FALSE(r.malformed());
}

TEST(WireReader, FixedFieldCutInHalfIsMalformed) {
    std::vector<uint8_t> bytes = {1, 2, 3};
    WireReader r(bytes.data(), bytes.size());
    EXPECT_EQ(r.u32(5), 5u);
    EXPECT_TRUE(r.exhausted());
    EXPECT_TRUE(r.malformed());
}

TEST(WireReader, StringLengthPastTheEndIsMalformedAndReadsEmpty) {
    std::vector<uint8_t> bytes = {10, 0, 'a', 'b'};  // 10 bytes announced, 2 present
    WireReader r(bytes.data(), bytes.size());
    EXPECT_EQ(r.str(), "");
    EXPECT_TRUE(r.exhausted());
    EXPECT_TRUE(r.malformed());
    EXPECT_EQ(r.u8(42), 42);  // and nothing after it is trusted
}

TEST(WireReader, StringListStopsAtTheFirstItemPastTheEnd) {
    // Three items announced; the second claims more bytes than remain.
    std::vector<uint8_t> bytes = {3, 0, 1, 0, 'x', 200, 0, 'y'};
    WireReader r(bytes.data(), bytes.size());
    std::vector<std::string> got;
    r.strlist([&](std::string_view s) { got.emplace_back(s); });
    EXPECT_EQ(got, (std::vector<std::string>{"x"}));
    EXPECT_TRUE(r.malformed());
}

TEST(WireReader, StringListWithHugeCountOnShortPayloadEndsQuickly) {
    std::vector<uint8_t> bytes = {0xff, 0xff, 0, 0};  // 65535 items announced, one empty present
    WireReader r(bytes.data(), bytes.size());
    size_t calls = 0;
    r.strlist([&](std::string_view) { ++calls; });
    EXPECT_EQ(calls, 1u);
    EXPECT_TRUE(r.exhausted());
}

TEST(WireReader, U64ListLongerThanTheRecordIsMalformedAndYieldsNothing) {
    std::vector<uint8_t> bytes = {3, 0, 1, 0, 0, 0, 0, 0, 0, 0};  // 3 values announced, 1 present
    WireReader r(bytes.data(), bytes.size());
    size_t calls = 0;
    r.u64list([&](uint64_t) { ++calls; });
    EXPECT_EQ(calls, 0u);
    EXPECT_TRUE(r.malformed());
    EXPECT_TRUE(r.exhausted());
}

TEST(WireReader, ReadsNeverMovePastTheEnd) {
    std::vector<uint8_t> bytes = {5, 0, 'a'};
    WireReader r(bytes.data(), bytes.size());
    r.str();
    r.u64();
    r.u8();
    EXPECT_LE(r.position(), bytes.size());
}

}  // namespace
}  // namespace cowtrace::wire

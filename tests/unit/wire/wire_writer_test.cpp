// WireWriter: each field type's encoding (docs/FORMAT.md "Fields") and how strings and string
// lists are cut to their budget.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "wire/wire_reader.hpp"
#include "wire/wire_writer.hpp"

namespace cowtrace::wire {
namespace {

constexpr size_t kHeader = sizeof(RecordHeader);

// The payload bytes written so far (after the header).
std::vector<uint8_t> payload_of(const std::vector<uint8_t>& buf, const WireWriter& w) {
    return {buf.begin() + kHeader, buf.begin() + static_cast<std::ptrdiff_t>(w.size())};
}

TEST(WireWriter, FixedFieldsAreLittleEndianBackToBackAfterTheHeader) {
    std::vector<uint8_t> buf(256);
    WireWriter w(buf.data(), buf.size());
    w.u8(0x11);
    w.u16(0x2233);
    w.u32(0x44556677);
    w.i32(-2);
    w.u64(0x0102030405060708ull);
    w.i64(-3);
    std::vector<uint8_t> expected = {0x11, 0x33, 0x22, 0x77, 0x66, 0x55, 0x44, 0xfe, 0xff,
                                     0xff, 0xff, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02,
                                     0x01, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    EXPECT_EQ(payload_of(buf, w), expected);
}

TEST(WireWriter, FinishWritesTheHeaderWithTheWholeRecordSize) {
    std::vector<uint8_t> buf(256);
    WireWriter w(buf.data(), buf.size());
    w.u32(7);
    size_t n = w.finish(RecordType::kExit, kFromVforkChild, 1234, 1235, 99, 5);
    ASSERT_EQ(n, kHeader + 4);
    RecordHeader h;
    memcpy(&h, buf.data(), sizeof h);
    EXPECT_EQ(h.size, kHeader + 4);
    EXPECT_EQ(h.type, static_cast<uint16_t>(RecordType::kExit));
    EXPECT_EQ(h.flags, kFromVforkChild);
    EXPECT_EQ(h.pid, 1234);
    EXPECT_EQ(h.tid, 1235);
    EXPECT_EQ(h.t_ns, 99u);
    EXPECT_EQ(h.seq, 5u);
    EXPECT_EQ(h.reserved, 0u);
}

TEST(WireWriter, RecordWithNoFieldsIsJustTheHeader) {
    std::vector<uint8_t> buf(kHeader);
    WireWriter w(buf.data(), buf.size());
    EXPECT_EQ(w.finish(RecordType::kDlopenDeepbind, 0, 1, 1, 0, 0), kHeader);
}

TEST(WireWriter, StringIsLengthPrefixedWithoutTerminator) {
    std::vector<uint8_t> buf(256);
    WireWriter w(buf.data(), buf.size());
    EXPECT_FALSE(w.cstr("abc"));
    std::vector<uint8_t> expected = {3, 0, 'a', 'b', 'c'};
    EXPECT_EQ(payload_of(buf, w), expected);
}

TEST(WireWriter, NullStringIsWrittenAsEmpty) {
    std::vector<uint8_t> buf(256);
    WireWriter w(buf.data(), buf.size());
    EXPECT_FALSE(w.cstr(nullptr));
    EXPECT_FALSE(w.str(nullptr, 10));
    std::vector<uint8_t> expected = {0, 0, 0, 0};
    EXPECT_EQ(payload_of(buf, w), expected);
}

TEST(WireWriter, StringLongerThanItsLimitIsCutAndSaysSo) {
    std::vector<uint8_t> buf(256);
    WireWriter w(buf.data(), buf.size());
    EXPECT_TRUE(w.cstr("abcdef", 4));
    std::vector<uint8_t> expected = {4, 0, 'a', 'b', 'c', 'd'};
    EXPECT_EQ(payload_of(buf, w), expected);
}

TEST(WireWriter, StringOver64KiBIsCutToTheLengthFieldsRange) {
    std::string big(70'000, 'x');
    std::vector<uint8_t> buf(80'000);
    WireWriter w(buf.data(), buf.size());
    EXPECT_TRUE(w.str(big.data(), big.size()));
    EXPECT_EQ(w.size(), kHeader + 2 + 0xffff);
}

TEST(WireWriter, StringListOfNullIsEmptyAndNotTruncated) {
    std::vector<uint8_t> buf(256);
    WireWriter w(buf.data(), buf.size());
    w.strlist(nullptr, 100);
    std::vector<uint8_t> expected = {0, 0, 0};
    EXPECT_EQ(payload_of(buf, w), expected);
}

TEST(WireWriter, StringListWithinBudgetIsCompleteWithTruncatedFlagClear) {
    const char* items[] = {"ls", "-l", nullptr};
    std::vector<uint8_t> buf(256);
    WireWriter w(buf.data(), buf.size());
    w.strlist(items, 100);
    std::vector<uint8_t> expected = {2, 0, 2, 0, 'l', 's', 2, 0, '-', 'l', 0};
    EXPECT_EQ(payload_of(buf, w), expected);
}

TEST(WireWriter, StringListOverBudgetKeepsAPrefixAndSetsTruncatedFlag) {
    // Budget 10: "aaaa" costs 2+4, leaving 4, so "bbbbbb" is cut to 2 bytes and "c" dropped.
    const char* items[] = {"aaaa", "bbbbbb", "c", nullptr};
    std::vector<uint8_t> buf(256);
    WireWriter w(buf.data(), buf.size());
    w.strlist(items, 10);
    std::vector<uint8_t> expected = {2, 0, 4, 0, 'a', 'a', 'a', 'a', 2, 0, 'b', 'b', 1};
    EXPECT_EQ(payload_of(buf, w), expected);
}

TEST(WireWriter, StringListDropsItemsOnceTheBudgetIsSpent) {
    const char* items[] = {"abc", "d", nullptr};
    std::vector<uint8_t> buf(256);
    WireWriter w(buf.data(), buf.size());
    w.strlist(items, 5);  // exactly "abc" with its length
    std::vector<uint8_t> expected = {1, 0, 3, 0, 'a', 'b', 'c', 1};
    EXPECT_EQ(payload_of(buf, w), expected);
}

TEST(WireWriter, NulSeparatedBlobBecomesAStringList) {
    const char cmdline[] = "sh\0-c\0true";  // /proc/self/cmdline without its last NUL
    std::vector<uint8_t> buf(256);
    WireWriter w(buf.data(), buf.size());
    w.nul_separated(cmdline, sizeof cmdline - 1, 100);
    WireReader r(buf.data() + kHeader, w.size() - kHeader);
    std::vector<std::string> got;
    EXPECT_FALSE(r.strlist([&](std::string_view s) { got.emplace_back(s); }));
    EXPECT_EQ(got, (std::vector<std::string>{"sh", "-c", "true"}));
    EXPECT_FALSE(r.malformed());
}

TEST(WireWriter, NulSeparatedBlobOverBudgetSetsTruncatedFlag) {
    const char cmdline[] = "python3\0-c\0print(1)\0";
    std::vector<uint8_t> buf(256);
    WireWriter w(buf.data(), buf.size());
    w.nul_separated(cmdline, sizeof cmdline - 1, 13);  // "python3" and "-c" exactly
    WireReader r(buf.data() + kHeader, w.size() - kHeader);
    std::vector<std::string> got;
    EXPECT_TRUE(r.strlist([&](std::string_view s) { got.emplace_back(s); }));
    EXPECT_EQ(got, (std::vector<std::string>{"python3", "-c"}));
}

TEST(WireWriter, U64ListIsCountThenValues) {
    uint64_t frames[] = {0x1000, 0x2000};
    std::vector<uint8_t> buf(256);
    WireWriter w(buf.data(), buf.size());
    w.u64list(frames, 2);
    std::vector<uint8_t> expected = {2, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(payload_of(buf, w), expected);
}

}  // namespace
}  // namespace cowtrace::wire

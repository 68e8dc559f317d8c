// The compatibility rule of docs/FORMAT.md: fields are only appended. A reader built before a
// field existed ignores it; a reader built after reads it as its default from older records.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wire/wire_reader.hpp"
#include "wire/wire_writer.hpp"

namespace cowtrace::wire {
namespace {

constexpr size_t kHeader = sizeof(RecordHeader);

// Exit record as version 1 writes it: u8 how, i32 code.
void write_exit_v1(WireWriter& w) {
    w.u8(static_cast<uint8_t>(ExitHow::kExit));
    w.i32(3);
}

// A hypothetical later version that appended two fields.
void write_exit_v2(WireWriter& w) {
    write_exit_v1(w);
    w.u64(123456789);
    w.cstr("atexit handler");
}

struct ExitV1 {
    uint8_t how;
    int32_t code;
};

ExitV1 read_exit_v1(WireReader& r) {
    return {r.u8(), r.i32()};
}

struct ExitV2 {
    ExitV1 v1;
    uint64_t rusage_ns;
    std::string where;
};

ExitV2 read_exit_v2(WireReader& r) {
    ExitV1 v1 = read_exit_v1(r);
    uint64_t rusage_ns = r.u64();
    return {v1, rusage_ns, std::string(r.str())};
}

template <class Write>
std::vector<uint8_t> payload(Write&& write) {
    std::vector<uint8_t> buf(1024);
    WireWriter w(buf.data(), buf.size());
    write(w);
    size_t n = w.finish(RecordType::kExit, 0, 1, 1, 0, 0);
    return {buf.begin() + kHeader, buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

TEST(WireCompat, OldReaderTakesItsFieldsFromANewerRecordAndIgnoresTheRest) {
    auto bytes = payload(write_exit_v2);
    WireReader r(bytes.data(), bytes.size());
    ExitV1 e = read_exit_v1(r);
    EXPECT_EQ(e.how, static_cast<uint8_t>(ExitHow::kExit));
    EXPECT_EQ(e.code, 3);
    EXPECT_FALSE(r.exhausted());
    EXPECT_FALSE(r.malformed());
}

TEST(WireCompat, NewReaderReadsAppendedFieldsOfAnOlderRecordAsDefaults) {
    auto bytes = payload(write_exit_v1);
    WireReader r(bytes.data(), bytes.size());
    ExitV2 e = read_exit_v2(r);
    EXPECT_EQ(e.v1.code, 3);
    EXPECT_EQ(e.rusage_ns, 0u);
    EXPECT_EQ(e.where, "");
    EXPECT_TRUE(r.exhausted());
    EXPECT_FALSE(r.malformed());
}

TEST(WireCompat, NewReaderReadsANewRecordWhole) {
    auto bytes = payload(write_exit_v2);
    WireReader r(bytes.data(), bytes.size());
    ExitV2 e = read_exit_v2(r);
    EXPECT_EQ(e.rusage_ns, 123456789u);
    EXPECT_EQ(e.where, "atexit handler");
    EXPECT_FALSE(r.malformed());
}

}  // namespace
}  // namespace cowtrace::wire

// WireWriter in a buffer too small for the record: it never writes past the buffer, and a
// record whose fixed fields did not fit is refused (finish() returns 0) rather than sent cut.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "wire/wire_reader.hpp"
#include "wire/wire_writer.hpp"

namespace cowtrace::wire {
namespace {

constexpr size_t kHeader = sizeof(RecordHeader);
constexpr uint8_t kGuardByte = 0xa5;
constexpr size_t kGuardBytes = 64;

// A buffer of `capacity` usable bytes followed by guard bytes that must stay untouched.
struct GuardedBuffer {
    explicit GuardedBuffer(size_t capacity) : capacity(capacity), bytes(capacity + kGuardBytes) {
        memset(bytes.data() + capacity, kGuardByte, kGuardBytes);
    }
    bool guard_intact() const {
        for (size_t i = capacity; i < bytes.size(); ++i) {
            if (bytes[i] != kGuardByte) return false;
        }
        return true;
    }
    size_t capacity;
    std::vector<uint8_t> bytes;
};

// Writes one of every field kind, the way the shim fills its largest records.
void write_every_field(WireWriter& w) {
    const char* argv[] = {"python3", "-c", "import os; os.fork()", nullptr};
    const char cmdline[] = "sh\0-c\0sleep 1";
    uint64_t frames[] = {1, 2, 3, 4};
    w.u8(1);
    w.u16(2);
    w.u32(3);
    w.i32(-4);
    w.u64(5);
    w.i64(-6);
    w.cstr("/usr/bin/python3");
    w.strlist(argv, 4096);
    w.nul_separated(cmdline, sizeof cmdline - 1, 4096);
    w.u64list(frames, 4);
    w.u8(0);
}

TEST(WireWriterOverflow, NoCapacityEverWritesPastTheBuffer) {
    // Every capacity from none to more than the record needs.
    for (size_t capacity = 0; capacity < 200; ++capacity) {
        GuardedBuffer buf(capacity);
        WireWriter w(buf.bytes.data(), capacity);
        write_every_field(w);
        size_t n = w.finish(RecordType::kHello, 0, 1, 1, 0, 0);
        EXPECT_TRUE(buf.guard_intact()) << "capacity " << capacity;
        EXPECT_LE(n, capacity) << "capacity " << capacity;
    }
}

TEST(WireWriterOverflow, CapacityBelowTheHeaderFinishesAsZero) {
    GuardedBuffer buf(kHeader - 1);
    WireWriter w(buf.bytes.data(), buf.capacity);
    EXPECT_TRUE(w.overflowed());
    EXPECT_EQ(w.remaining(), 0u);
    EXPECT_EQ(w.finish(RecordType::kExit, 0, 1, 1, 0, 0), 0u);
    EXPECT_TRUE(buf.guard_intact());
}

TEST(WireWriterOverflow, FixedFieldThatDoesNotFitMakesFinishReturnZero) {
    GuardedBuffer buf(kHeader + 6);
    WireWriter w(buf.bytes.data(), buf.capacity);
    w.u32(1);
    EXPECT_FALSE(w.overflowed());
    w.u32(2);  // 2 bytes left: does not fit
    EXPECT_TRUE(w.overflowed());
    w.u8(3);  // would fit on its own, but the record is already lost
    EXPECT_EQ(w.finish(RecordType::kExit, 0, 1, 1, 0, 0), 0u);
    EXPECT_TRUE(buf.guard_intact());
}

TEST(WireWriterOverflow, U64ListThatDoesNotFitMakesFinishReturnZero) {
    uint64_t frames[4] = {};
    GuardedBuffer buf(kHeader + 2 + 8 * 3);
    WireWriter w(buf.bytes.data(), buf.capacity);
    w.u64list(frames, 4);
    EXPECT_EQ(w.finish(RecordType::kSpawnBegin, 0, 1, 1, 0, 0), 0u);
    EXPECT_TRUE(buf.guard_intact());
}

TEST(WireWriterOverflow, StringIsCutToTheSpaceLeftAndTheRecordStillFinishes) {
    GuardedBuffer buf(kHeader + 2 + 3);
    WireWriter w(buf.bytes.data(), buf.capacity);
    EXPECT_TRUE(w.cstr("abcdef"));
    size_t n = w.finish(RecordType::kDlopenDeepbind, 0, 1, 1, 0, 0);
    ASSERT_EQ(n, buf.capacity);
    WireReader r(buf.bytes.data() + kHeader, n - kHeader);
    EXPECT_EQ(r.str(), "abc");
    EXPECT_TRUE(buf.guard_intact());
}

TEST(WireWriterOverflow, StringListCutByTheSpaceLeftKeepsRoomForItsTruncatedFlag) {
    // Room for the count, one cut item and the flag: the list must end readable and flagged.
    const char* argv[] = {"a-long-argument", "another", nullptr};
    for (size_t room = 3; room < 20; ++room) {
        GuardedBuffer buf(kHeader + room);
        WireWriter w(buf.bytes.data(), buf.capacity);
        w.strlist(argv, 4096);
        size_t n = w.finish(RecordType::kCreated, 0, 1, 1, 0, 0);
        ASSERT_NE(n, 0u) << "room " << room;
        WireReader r(buf.bytes.data() + kHeader, n - kHeader);
        size_t items = 0;
        EXPECT_TRUE(r.strlist([&](std::string_view) { ++items; })) << "room " << room;
        EXPECT_FALSE(r.malformed()) << "room " << room;
        EXPECT_FALSE(r.exhausted()) << "room " << room;
        EXPECT_TRUE(buf.guard_intact());
    }
}

TEST(WireWriterOverflow, NulSeparatedBlobCutByTheSpaceLeftKeepsRoomForItsTruncatedFlag) {
    const char cmdline[] = "a-long-argument\0another";
    for (size_t room = 3; room < 20; ++room) {
        GuardedBuffer buf(kHeader + room);
        WireWriter w(buf.bytes.data(), buf.capacity);
        w.nul_separated(cmdline, sizeof cmdline - 1, 4096);
        size_t n = w.finish(RecordType::kHello, 0, 1, 1, 0, 0);
        ASSERT_NE(n, 0u) << "room " << room;
        WireReader r(buf.bytes.data() + kHeader, n - kHeader);
        EXPECT_TRUE(r.strlist([](std::string_view) {})) << "room " << room;
        EXPECT_FALSE(r.malformed()) << "room " << room;
        EXPECT_TRUE(buf.guard_intact());
    }
}

}  // namespace
}  // namespace cowtrace::wire

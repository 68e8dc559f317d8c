// libFuzzer target: one record of any type with any payload, decoded the way the model decodes
// it (tools/model/tree_builder.cpp), and by the field layout of docs/FORMAT.md with the
// WireReader's guarantees checked. Input: byte 0 picks the record type, byte 1 its flags, the
// rest is the payload.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/trace_reader.hpp"
#include "model/tree_builder.hpp"
#include "wire/record.hpp"
#include "wire/wire_reader.hpp"

namespace {

using cowtrace::RawRecord;
using cowtrace::wire::RecordType;
using cowtrace::wire::WireReader;

// Every type of docs/FORMAT.md, and two it does not define (readers must skip those).
constexpr uint16_t kTypes[] = {1,  2,  3,  10, 11, 12, 14, 15, 20, 21, 22, 23, 24, 25,
                               26, 27, 28, 29, 30, 31, 40, 41, 42, 43, 44, 13, 999};

// The field kinds of FORMAT.md's "Fields".
enum Field : uint8_t { U8, U16, U32, U64, I32, I64, STR, STRLIST, U64LIST, REGIONS, PIDS };

// Each type's fields, in order (FORMAT.md tables).
std::vector<Field> layout_of(uint16_t type) {
    switch (static_cast<RecordType>(type)) {
        case RecordType::kTraceStart:
            return {U64, I32, I32, STRLIST, U32, STR, STR, U32, U8, STR, STR, U64, U64};
        case RecordType::kTraceEnd:
            return {I32, U64, U64, U64, PIDS};
        case RecordType::kCollectorNote:
            return {U8, U16, STR};
        case RecordType::kKernelFork:
            return {I32, I32};
        case RecordType::kKernelExec:
        case RecordType::kKernelExit:
        case RecordType::kSubreaperReaped:
        case RecordType::kExecFailed:
            return {I32};
        case RecordType::kSymbol:
            return {I32, U64, STR};
        case RecordType::kHello:
            return {U32, I32, STR, STRLIST, U32, U32};
        case RecordType::kCreated:
            return {U8, I32, I32, U64, U64LIST, STR, U32, STRLIST};
        case RecordType::kChildStart:
            return {U8, I32, U32};
        case RecordType::kExecAttempt:
            return {STR, STR, U32, STRLIST, U8};
        case RecordType::kExit:
            return {U8, I32};
        case RecordType::kWaitReaped:
            return {U8, I32, I32};
        case RecordType::kSpawnBegin:
            return {U8, U32, U64LIST};
        case RecordType::kDropped:
            return {U64};
        case RecordType::kCensusRequest:
        case RecordType::kEpisodeEnd:
            return {U8};
        case RecordType::kDlopenDeepbind:
            return {STR};
        case RecordType::kEpisodeStart:
            return {I32, U64, STR, U8, U64, U64, U64, U64, STRLIST};
        case RecordType::kEpisodeSample:
            return {U64, U64, U64, U64, U64, U64, U64};
        case RecordType::kMemorySample:
            return {U64, U64, U64, U64, U64, U64};
        case RecordType::kEpisodeRegions:
            return {REGIONS};
        default:
            return {};
    }
}

void require(bool ok) {
    if (!ok) abort();  // a WireReader guarantee broke: libFuzzer reports the input
}

// A view from the reader must lie inside the payload.
void check_view(std::string_view s, const uint8_t* data, size_t size) {
    if (s.empty()) return;
    auto* p = reinterpret_cast<const uint8_t*>(s.data());
    require(p >= data && p + s.size() <= data + size);
}

void decode_by_layout(uint16_t type, const uint8_t* data, size_t size) {
    WireReader r(data, size);
    bool was_exhausted = false;
    for (Field f : layout_of(type)) {
        switch (f) {
            case U8:
                r.u8();
                break;
            case U16:
                r.u16();
                break;
            case U32:
                r.u32();
                break;
            case U64:
                r.u64();
                break;
            case I32:
                r.i32();
                break;
            case I64:
                r.i64();
                break;
            case STR:
                check_view(r.str(), data, size);
                break;
            case STRLIST:
                r.strlist([&](std::string_view s) { check_view(s, data, size); });
                break;
            case U64LIST:
                r.u64list([](uint64_t) {});
                break;
            case PIDS: {
                uint16_t n = r.u16();
                for (uint16_t i = 0; i < n && !r.exhausted(); ++i) r.i32();
                break;
            }
            case REGIONS: {
                uint32_t n = r.u32();
                for (uint32_t i = 0; i < n && !r.exhausted(); ++i) {
                    check_view(r.str(), data, size);
                    for (int k = 0; k < 4; ++k) r.u64();
                }
                break;
            }
        }
        require(r.position() <= size);
        require(!r.malformed() || r.exhausted());
        // Once a read ran out, every later read must read as its default.
        if (was_exhausted) require(r.u64(7) == 7 && r.str().empty());
        was_exhausted = r.exhausted();
    }
}

// A minimal trace start, so the record is read as part of a traced run.
std::vector<uint8_t> trace_start_record() {
    std::vector<uint8_t> out(sizeof(cowtrace::wire::RecordHeader), 0);
    cowtrace::wire::RecordHeader h{};
    h.size = sizeof h;
    h.type = static_cast<uint16_t>(RecordType::kTraceStart);
    h.pid = 100;
    h.t_ns = 1000;
    memcpy(out.data(), &h, sizeof h);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    uint16_t type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
    uint16_t flags = data[1];
    const uint8_t* payload = data + 2;
    size_t payload_size = size - 2;

    decode_by_layout(type, payload, payload_size);

    // The model, twice over the same record (a second copy meets the state the first left).
    static const std::vector<uint8_t> start = trace_start_record();
    RawRecord first;
    memcpy(&first.header, start.data(), sizeof first.header);
    std::vector<RawRecord> records = {first};
    for (uint64_t t : {2000u, 3000u}) {
        RawRecord r;
        r.header = {};
        r.header.size = static_cast<uint32_t>(sizeof r.header + payload_size);
        r.header.type = type;
        r.header.flags = flags;
        r.header.pid = 101;
        r.header.tid = 101;
        r.header.t_ns = t;
        r.payload = std::span<const uint8_t>(payload, payload_size);
        records.push_back(r);
    }
    cowtrace::model::ProcessTree tree;
    cowtrace::model::build_process_tree_from(records, tree);
    return 0;
}

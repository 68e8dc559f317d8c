// libFuzzer target: one record of any type with any payload, decoded by the schema (lib/wire)
// with every view checked and encoded again, then fed to the model (tools/model). Input: byte 0
// picks the record type (decoder_types.hpp), byte 1 its flags, the rest is the payload.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "decoder_types.hpp"
#include "model/tree_builder.hpp"
#include "trace/trace_reader.hpp"
#include "wire/all_records.hpp"

namespace {

using cowtrace::RawRecord;
using cowtrace::wire::RecordType;

void require(bool ok) {
    if (!ok) abort();  // a decoder guarantee broke: libFuzzer reports the input
}

// Walks a decoded record: every text it points to lies inside the payload, and every list can
// be walked to its end.
class ViewChecker {
public:
    ViewChecker(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    template <cowtrace::wire::FixedField T>
    void operator()(const T&) {}
    void operator()(const cowtrace::wire::Text& t, size_t = 0) { check(t.view()); }
    void operator()(const cowtrace::wire::TextList& l, size_t = 0) {
        l.for_each([&](std::string_view s) { check(s); });
    }
    template <class T>
    void operator()(const cowtrace::wire::NumberList<T>& l) {
        l.for_each([](T) {});
    }
    template <class Item, class Count>
    void operator()(const cowtrace::wire::ItemList<Item, Count>& l) {
        l.for_each([&](const Item& item) { Item::fields(item, *this); });
    }

private:
    void check(std::string_view s) {
        if (s.empty()) return;
        auto* p = reinterpret_cast<const uint8_t*>(s.data());
        require(p >= data_ && p + s.size() <= data_ + size_);
    }
    const uint8_t* data_;
    size_t size_;
};

// The payload decoded as its record type by the schema, every view checked, then encoded again:
// the encoder must take whatever the decoder made of any input.
void decode_by_schema(uint16_t type, const uint8_t* data, size_t size) {
    cowtrace::wire::AllRecords::for_each([&]<class R>() {
        if (static_cast<uint16_t>(R::kType) != type) return;
        R record;
        cowtrace::wire::decode_payload(data, size, record);
        ViewChecker checker(data, size);
        R::fields(record, checker);
        std::vector<uint8_t> buf(cowtrace::wire::kMaxRecordSize);
        cowtrace::wire::encode_record(record, {}, buf.data(), buf.size());
    });
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
    const std::vector<uint16_t>& types = cowtrace::fuzz::decoder_types();
    uint16_t type = types[data[0] % types.size()];
    uint16_t flags = data[1];
    const uint8_t* payload = data + 2;
    size_t payload_size = size - 2;

    decode_by_schema(type, payload, payload_size);

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

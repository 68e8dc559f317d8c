#include "time_ordered_records.hpp"

#include <algorithm>
#include <cstring>

namespace cowtrace::model {

void TimeOrderedRecords::add_at(const uint8_t* record, const wire::RecordHeader& h) {
    if (h.type == static_cast<uint16_t>(wire::RecordType::kEpisodeStart)) ++episodes_;
    uint32_t not_start = h.type == static_cast<uint16_t>(wire::RecordType::kTraceStart) ? 0 : 1;
    places_.push_back(Place{h.t_ns, record, static_cast<uint32_t>(places_.size()), not_start});
}

void TimeOrderedRecords::add_in_place(const RawRecord& rec) {
    // A reader hands out each record's payload right behind its header, in its own buffer
    // (trace_reader.cpp, next()): the header is found again there. Should that ever change, the
    // record is copied rather than misread.
    if (rec.payload.data() == nullptr ||
        rec.header.size != sizeof rec.header + rec.payload.size()) {
        add_copy(rec);
        return;
    }
    const uint8_t* record = rec.payload.data() - sizeof(wire::RecordHeader);
    if (std::memcmp(record, &rec.header, sizeof rec.header) == 0) {
        add_at(record, rec.header);
    } else {
        add_copy(rec);
    }
}

void TimeOrderedRecords::add_copy(const RawRecord& rec) {
    size_t payload = rec.payload.size();
    auto bytes = std::make_unique<uint8_t[]>(sizeof rec.header + payload);
    wire::RecordHeader h = rec.header;
    // A test may hand a header whose size does not match the payload: the payload given counts.
    h.size = static_cast<uint32_t>(sizeof h + payload);
    std::memcpy(bytes.get(), &h, sizeof h);
    if (payload) std::memcpy(bytes.get() + sizeof h, rec.payload.data(), payload);
    add_at(bytes.get(), rec.header);
    copies_.push_back(std::move(bytes));
}

void TimeOrderedRecords::sort() {
    std::sort(places_.begin(), places_.end(), [](const Place& a, const Place& b) {
        if (a.not_start != b.not_start) return a.not_start < b.not_start;
        if (a.t_ns != b.t_ns) return a.t_ns < b.t_ns;
        return a.added < b.added;
    });
}

RawRecord TimeOrderedRecords::at(size_t i) const {
    RawRecord rec;
    const uint8_t* record = places_[i].record;
    std::memcpy(&rec.header, record, sizeof rec.header);
    rec.payload =
        std::span<const uint8_t>(record + sizeof rec.header, rec.header.size - sizeof rec.header);
    return rec;
}

}  // namespace cowtrace::model

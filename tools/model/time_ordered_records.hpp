// A trace's records in the order the tree is built from them. Records from different processes
// reach the collector in any order; their clocks agree (CLOCK_MONOTONIC), so time order is
// causal order. The trace start comes first regardless; records stamped alike keep the order in
// which they were added (the order of the files).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "trace/trace_reader.hpp"

namespace cowtrace::model {

class TimeOrderedRecords {
public:
    // A record read by a TraceReader that lives until the build ends: held where the reader
    // keeps it (24 bytes of ours a record, where RawRecord and a sort key took 72: 50 MiB at
    // 1.1 million records).
    void add_in_place(const RawRecord& rec);
    // A record whose bytes may not outlive this call (tests, fuzzing): copied.
    void add_copy(const RawRecord& rec);
    void reserve(size_t records) { places_.reserve(records); }

    // Puts the records in time order; at() then walks them in it.
    void sort();
    size_t size() const { return places_.size(); }
    RawRecord at(size_t i) const;
    size_t episodes() const { return episodes_; }  // EpisodeStart records

private:
    struct Place {
        uint64_t t_ns;
        const uint8_t* record;  // its header, then its payload
        uint32_t added;         // the how-manieth added: the tie-breaker
        uint32_t not_start;     // 0 for the trace start
    };
    void add_at(const uint8_t* record, const wire::RecordHeader& h);

    std::vector<Place> places_;
    size_t episodes_ = 0;
    std::vector<std::unique_ptr<uint8_t[]>> copies_;  // records added by copy
};

}  // namespace cowtrace::model

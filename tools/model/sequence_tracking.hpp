// Lost library records, found from their sequence numbers. Numbering starts at 0 with each
// process (its ChildStart) and each exec'd image (its Hello); a number that never arrived means a
// record was lost — the first ones too: when a collector dies with records in its socket or its
// buffer, a process's later records reach the spool alone. (A vfork child's records and drop
// reports carry no number.)
#pragma once

#include <cstdint>
#include <vector>

#include "process_tree.hpp"
#include "wire/record.hpp"

namespace cowtrace::model {

class SequenceTracker {
public:
    // A library record of process p (at index).
    void track(const wire::RecordHeader& h, size_t index, Process& p);
    // Books what is still missing into each process's seq_gaps.
    void finalize(ProcessTree& tree);

private:
    // The numbers one image (or one forked process) gave its records. Threads take numbers and
    // timestamps in either order, so records sorted by time are not sorted by number: the span
    // is judged as a whole (lowest to highest, how many arrived), not record after record.
    struct Span {
        uint32_t lowest = UINT32_MAX;
        uint32_t highest = 0;
        uint64_t count = 0;
        // A process carried over from the file before (rotation) numbered its first records
        // there: this file's span starts at the lowest number it holds.
        bool from_lowest = false;
        uint32_t missing() const;
    };
    std::vector<Span> spans_;  // by process index
};

}  // namespace cowtrace::model

#include "sequence_tracking.hpp"

#include <algorithm>

namespace cowtrace::model {

uint32_t SequenceTracker::Span::missing() const {
    if (count == 0) return 0;
    uint64_t expected = uint64_t{highest} + 1 - (from_lowest ? lowest : 0);
    return expected > count ? static_cast<uint32_t>(expected - count) : 0;
}

void SequenceTracker::track(const wire::RecordHeader& h, size_t index, Process& p) {
    if (h.flags & wire::kFromVforkChild) return;
    if (h.type == static_cast<uint16_t>(wire::RecordType::kDropped)) return;
    if (index >= spans_.size()) spans_.resize(index + 1);
    Span& span = spans_[index];
    bool first_of_image = h.type == static_cast<uint16_t>(wire::RecordType::kHello) ||
                          h.type == static_cast<uint16_t>(wire::RecordType::kChildStart);
    if (first_of_image && h.seq == 0) {
        p.add_seq_gaps(span.missing());
        span = Span{};
    }
    if (span.count == 0 && p.carried_over && !first_of_image) span.from_lowest = true;
    span.lowest = std::min(span.lowest, h.seq);
    span.highest = std::max(span.highest, h.seq);
    ++span.count;
}

void SequenceTracker::finalize(ProcessTree& tree) {
    for (size_t i = 0; i < spans_.size(); ++i) tree.processes[i].add_seq_gaps(spans_[i].missing());
}

}  // namespace cowtrace::model

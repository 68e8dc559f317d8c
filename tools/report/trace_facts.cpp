#include "trace_facts.hpp"

#include "process_labels.hpp"

namespace cowtrace::report {

nlohmann::json trace_facts_json(const model::ProcessTree& tree) {
    using nlohmann::json;
    return json{
        {"complete", tree.complete},
        {"reader_error", tree.reader_error.empty() ? json(nullptr) : json(tree.reader_error)},
        {"command_line", command_text(tree.command)},
        {"host", tree.host},
        {"kernel_release", tree.kernel_release},
        {"kernel_events", tree.kernel_events},
        {"kernel_events_note", tree.kernel_events_note},
        {"kernel_events_lost", tree.kernel_events_lost},
        {"shim_records", tree.shim_records},
        {"rejected_records", tree.rejected_records},
        {"dropped_records", tree.dropped_records},
        {"duration_ns", tree.end_ns},
        {"wall_start_ns", tree.wall_t0_ns},
        {"census_mode", model::census_mode_name(tree.census_mode)},
        {"sampling_interval_ns", tree.sampling_interval_ns}};
}

}  // namespace cowtrace::report

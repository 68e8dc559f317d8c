// The spool file of `cowtrace run -o TRACE`: TRACE.spool, where the library puts the records the
// collector could not take (it stalled, or died). It exists, ours and mode 0600, before the
// command starts — a process of the command that switched to another uid cannot write to it,
// and nobody else can plant records in it — and is folded into the trace at the end.
#pragma once

#include <cstdint>
#include <string>

#include "trace/trace_writer.hpp"

namespace cowtrace::collector {

class RunSpool {
public:
    explicit RunSpool(const std::string& trace_path);

    const std::string& path() const { return path_; }
    // Creates it with its file header; false with error set (also when a file that is not ours
    // is in the way).
    bool create(std::string& error);
    // Appends its records to trace (with a note saying so) and removes it. Returns how many
    // records it held.
    uint64_t fold_into(TraceWriter& trace, int32_t collector_pid, uint64_t t_ns);

private:
    std::string path_;
};

}  // namespace cowtrace::collector

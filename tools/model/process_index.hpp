// Which process a record speaks of. Pids are reused: the same pid can stand for several
// processes of a trace, one after the other, and records of a newcomer can be stamped before
// its creator's record about it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "process_tree.hpp"
#include "wire/record.hpp"

namespace cowtrace::model {

class ProcessIndex {
public:
    explicit ProcessIndex(ProcessTree& tree) : tree_(tree) {}

    // The process a record about pid speaks of at t. A creation event for a pid whose last
    // holder has ended starts a new process.
    Process& at(pid_t pid, uint64_t t, bool creation);
    // The sender of a library record: the library is loaded in it.
    Process& sender(const wire::RecordHeader& h, uint64_t t);

    size_t index_of(const Process& p) const {
        return static_cast<size_t>(&p - tree_.processes.data());
    }
    // The latest process with this pid, if any.
    std::optional<size_t> current(pid_t pid) const;
    // The process that held p's pid before it (SIZE_MAX: none): current(pid), then this, walks
    // every holder of a pid, the latest first.
    size_t previous_holder(size_t index) const { return previous_holder_[index]; }
    // The kernel or a reaper saw the process gone at t: nothing it sends comes later.
    void mark_gone(size_t index, uint64_t t);

private:
    // Whether a record a process sent itself comes from a newer holder of its pid.
    bool speaks_for_successor(const wire::RecordHeader& h, uint64_t t) const;

    ProcessTree& tree_;
    std::unordered_map<pid_t, size_t> current_;
    // By process (flat, not hash maps by process: 100,000 processes made 100,000 nodes each).
    std::vector<size_t> previous_holder_;
    std::vector<uint64_t> gone_ns_;  // kNotGone until marked
};

}  // namespace cowtrace::model

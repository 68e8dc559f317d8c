// The report model: every process of a trace, who created it, what it exec'd and how it ended,
// rebuilt from the shim's records and cross-checked with the kernel's. Renderers are views of
// this one model.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wire/record.hpp"

namespace cowtrace::model {

struct ExecEvent {
    uint64_t t_ns = 0;  // since the trace started
    std::string path;   // the file the successful execve ran (AT_EXECFN), else as passed
    std::string requested_path;  // as the program passed it (execvp: the bare name)
    std::vector<std::string> argv;
    bool argv_truncated = false;
    bool ok = false;
    int error = 0;  // errno when it failed
    uint32_t image_flags = 0;
    bool confirmed = false;  // the new image (or the kernel) said so
    bool resolved = false;   // the attempt's outcome is known (or assumed at the end)
    bool env_reinjected = false;
};

struct ExitStatus {
    enum class Kind { kUnknown, kCode, kSignal };
    Kind kind = Kind::kUnknown;
    int code = 0;    // kCode
    int signal = 0;  // kSignal
    bool core = false;
    std::string source;  // kernel | parent | collector | self
    int rank = 0;        // how much the source is trusted
};

// Resident memory of one process at one instant (smaps_rollup), in bytes.
struct MemorySample {
    uint64_t t_ns = 0;
    uint64_t rss_bytes = 0;
    uint64_t pss_bytes = 0;
    uint64_t private_dirty_bytes = 0;
    uint64_t shared_dirty_bytes = 0;
    uint64_t anonymous_bytes = 0;
    uint64_t swap_bytes = 0;
};

// Copy-on-write state of one fork episode at one instant, in bytes.
struct CowSample {
    uint64_t t_ns = 0;
    uint64_t shared_bytes = 0;           // still one page for both
    uint64_t copied_bytes = 0;           // shared at fork, now two pages
    uint64_t copied_by_parent_bytes = 0; // exact mode only
    uint64_t copied_by_child_bytes = 0;  // exact mode only
    uint64_t retained_bytes = 0;         // kept alive by the child only: the parent freed them
    uint64_t child_new_bytes = 0;        // the child's own new pages
};

// One memory region of an episode, named as in /proc/<pid>/maps: [heap], [stack], [anon:name],
// [anon] for unnamed anonymous memory, a path for a private file mapping.
struct CowRegion {
    std::string name;
    uint64_t shared_bytes_at_fork = 0;
    uint64_t copied_bytes_final = 0;
    uint64_t copied_bytes_peak = 0;
    uint64_t copied_by_parent_bytes = 0;  // final; exact mode only
    uint64_t copied_by_child_bytes = 0;
};

// From a fork (not vfork/posix_spawn: those share memory) until the child execs or exits.
struct ForkEpisode {
    pid_t parent = 0;
    pid_t child = 0;
    size_t child_index = 0;  // into ProcessTree::processes
    uint64_t t_ns = 0;       // the fork
    std::optional<uint64_t> end_ns;
    enum class End { kExit, kExec, kRunning } end = End::kRunning;
    std::string mode;           // "exact" | "unprivileged"
    bool split_known = false;   // copied_by_parent/child are meaningful
    uint64_t shared_bytes_at_fork = 0;
    uint64_t copied_bytes_peak = 0;
    uint64_t copied_bytes_final = 0;
    uint64_t copied_by_parent_bytes = 0;
    uint64_t copied_by_child_bytes = 0;
    uint64_t retained_bytes_final = 0;
    uint64_t child_new_bytes_final = 0;
    uint64_t zero_page_bytes_at_fork = 0;  // mapped to the zero page: not real memory
    uint64_t thp_bytes_at_fork = 0;        // in transparent huge pages
    uint64_t ksm_bytes_at_fork = 0;        // KSM-merged pages
    std::vector<std::string> approximations;  // why some figures are estimates
    std::vector<CowSample> samples;
    std::vector<CowRegion> regions;
    uint64_t census_cost_ns = 0;  // total time the collector spent measuring this episode
};

struct Process {
    pid_t pid = 0;
    pid_t ppid = -1;  // the process that created it, even if later reparented
    uint64_t start_ns = 0;
    std::optional<uint64_t> end_ns;
    wire::CreateHow how = wire::CreateHow::kUnknown;
    std::vector<uint64_t> call_site;  // return addresses in the creator
    std::vector<ExecEvent> execs;
    ExitStatus exit;
    std::vector<std::string> argv;  // the image's command line (hello), before any exec we saw
    bool creation_seen_by_shim = false;   // a shim record reported its creation
    bool creation_seen_by_kernel = false;
    bool shim_loaded = false;             // the library ran in it (a hello or any record of its own)
    bool still_running = false;           // alive when the trace ended
    bool deepbind = false;                // loaded a RTLD_DEEPBIND plugin
    uint64_t dropped_records = 0;
    uint32_t seq_gaps = 0;
    std::vector<size_t> children;  // indices into ProcessTree::processes
    std::vector<MemorySample> memory;
};

struct TraceNote {
    uint64_t t_ns = 0;
    int severity = 0;  // 0 info, 1 notice, 2 warning
    std::string text;
};

struct ProcessTree {
    pid_t root_pid = 0;
    pid_t collector_pid = 0;
    uint64_t t0_ns = 0;         // CLOCK_MONOTONIC of the trace start
    uint64_t wall_t0_ns = 0;    // CLOCK_REALTIME of the same instant
    uint64_t end_ns = 0;        // since t0
    std::vector<std::string> command;
    std::string kernel_release;
    std::string host;
    bool kernel_events = false;
    std::string kernel_events_note;
    std::string census_mode;
    uint64_t interval_ns = 0;
    uint32_t page_size = 4096;
    std::optional<int> root_status;  // wait(2) status of the command
    bool complete = false;            // the trace has its end record
    std::string reader_error;         // the file was damaged after this point
    uint64_t shim_records = 0;
    uint64_t rejected_records = 0;
    uint64_t kernel_events_lost = 0;
    uint64_t dropped_records = 0;
    std::vector<Process> processes;
    std::vector<ForkEpisode> episodes;
    uint64_t sampling_interval_ns = 0;  // the interval actually used (stretched to its duty cycle)
    std::vector<TraceNote> notes;
    std::map<std::pair<pid_t, uint64_t>, std::string> symbols;  // (pid, ip) → "function+0x12 (module)"

    const Process* find_current(pid_t pid) const;
    std::vector<size_t> roots() const;  // processes with no known creator in the trace
};

std::string create_how_name(wire::CreateHow how);
std::string image_flags_text(uint32_t flags);

}  // namespace cowtrace::model

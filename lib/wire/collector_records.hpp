// The records the collector writes into a trace, one struct each, in the same form as the
// library's (shim_records.hpp): fields() lists the fields in wire order, once. Tools only (the
// census and kernel records are the collector's, never the host's).
#pragma once

#include <cstddef>
#include <cstdint>

#include "field_codec.hpp"
#include "record.hpp"

namespace cowtrace::wire {

inline constexpr size_t kMaxCommandBytes = 64 * 1024;  // the traced command line in TraceStart
inline constexpr size_t kMaxApproximationBytes = 8192;

// What the collector that wrote a trace does, so that a reader knows what an absence means.
enum CollectorFeature : uint32_t {
    // Fork children are measured from outside, without waiting: a fork child with no episode
    // exec'd or exited before its memory could be read (short-lived, not measured).
    kFeatureOutsideBaseline = 1u << 0,
    // `cowtrace attach`: the processes were running before the trace began (ProcessCarried
    // records) and no library spoke for them: their forks, execs and exits are the kernel's.
    kFeatureAttached = 1u << 1,
};

// First record of a trace; the header's t_ns is t0.
struct TraceStart {
    static constexpr RecordType kType = RecordType::kTraceStart;
    uint64_t wall_t0_ns = 0;  // CLOCK_REALTIME at t0
    int32_t collector_pid = 0;
    int32_t root_pid = 0;  // 0 in record mode
    TextList command;
    uint32_t page_size = 4096;
    Text kernel_release;
    Text host;
    uint32_t euid = 0;
    bool kernel_events = false;  // the proc connector cross-check is on
    Text kernel_events_note;     // why not
    Text census_mode;            // "exact" | "unprivileged" | "off"
    uint64_t interval_ns = 0;
    uint64_t root_fork_ns = 0;  // 0: at t0
    uint32_t features = 0;      // CollectorFeature bits: what a reader may conclude

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.wall_t0_ns);
        v(s.collector_pid);
        v(s.root_pid);
        v(s.command, kMaxCommandBytes);
        v(s.page_size);
        v(s.kernel_release);
        v(s.host);
        v(s.euid);
        v(s.kernel_events);
        v(s.kernel_events_note);
        v(s.census_mode);
        v(s.interval_ns);
        v(s.root_fork_ns);
        v(s.features);
    }
};

// Last record of a complete trace.
struct TraceEnd {
    static constexpr RecordType kType = RecordType::kTraceEnd;
    int32_t root_status = -1;  // wait(2) form; -1 unknown
    uint64_t library_records = 0;
    uint64_t rejected_records = 0;
    uint64_t kernel_events_lost = 0;
    I32List still_running;
    uint64_t longest_interval_ns = 0;  // 0: the configured one

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.root_status);
        v(s.library_records);
        v(s.rejected_records);
        v(s.kernel_events_lost);
        v(s.still_running);
        v(s.longest_interval_ns);
    }
};

struct CollectorNote {
    static constexpr RecordType kType = RecordType::kCollectorNote;
    NoteSeverity severity = NoteSeverity::kInfo;
    NoteCode code = NoteCode::kSignalReceived;
    Text text;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.severity);
        v(s.code);
        v(s.text);
    }
};

// Proc connector events; the header's pid is the process the event is about.
struct KernelFork {
    static constexpr RecordType kType = RecordType::kKernelFork;
    int32_t parent = 0;         // tgid
    int32_t parent_thread = 0;  // the thread that forked

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.parent);
        v(s.parent_thread);
    }
};

struct KernelExec {
    static constexpr RecordType kType = RecordType::kKernelExec;
    int32_t thread = 0;
    // Read from /proc just after the event when no library speaks for the process (`attach`):
    // its new image and command line. Empty when not read, or the process was already gone.
    Text execfn;
    TextList argv;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.thread);
        v(s.execfn, kMaxPathInRecord);
        v(s.argv, kMaxArgvBytes);
    }
};

struct KernelExit {
    static constexpr RecordType kType = RecordType::kKernelExit;
    int32_t status = 0;  // wait(2) form
    // The end was found by looking at /proc (attach without the proc connector) after the
    // process was reaped: it ended by then, how is not known.
    bool status_unknown = false;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.status);
        v(s.status_unknown);
    }
};

// The collector (the tree's subreaper) reaped an orphan.
struct SubreaperReaped {
    static constexpr RecordType kType = RecordType::kSubreaperReaped;
    int32_t status = 0;  // wait(2) form

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.status);
    }
};

// A call-site address resolved at the end of the run.
struct Symbol {
    static constexpr RecordType kType = RecordType::kSymbol;
    int32_t pid = 0;
    uint64_t address = 0;
    // The innermost frame at the address: "function (file.c:42)", "function (module)" or
    // "module+0xoff" (traces before libdw: "function+0xoff (module)").
    Text name;
    // When name's code was inlined: the functions it was inlined into, innermost first, each
    // worded as name is; the last is the function the address is in. Empty: not inlined.
    TextList inlined_into;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.pid);
        v(s.address);
        v(s.name, kMaxPathInRecord);
        v(s.inlined_into, kMaxPathInRecord);
    }
};

// A process alive when this trace file began: `cowtrace record --rotate-…` closed the file
// before it and the process goes on. What a reader of this file alone needs to know it without
// its creation records: who created it, how and when, and the image it runs (none: its
// creator's, as a forked child that has not exec'd). Written right after the TraceStart.
struct ProcessCarried {
    static constexpr RecordType kType = RecordType::kProcessCarried;
    int32_t creator = 0;  // 0: unknown
    CreateHow how = CreateHow::kUnknown;
    uint64_t start_t_ns = 0;      // CLOCK_MONOTONIC, before this file's start; 0 unknown
    bool library_loaded = false;  // the library ran in it (a hello or a child start)
    Text execfn;                  // its image's AT_EXECFN; empty: its creator's image
    TextList argv;
    U64List call_site;  // where its creator created it (named by Symbol records of this file)

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.creator);
        v(s.how);
        v(s.start_t_ns);
        v(s.library_loaded);
        v(s.execfn, kMaxPathInRecord);
        v(s.argv, kMaxArgvBytes);
        v(s.call_site);
    }
};

// What the collector read in the file an exec or posix_spawn was about to run (the library only
// names it). The header's pid is the process that asked, t_ns the request's.
struct ImageFacts {
    static constexpr RecordType kType = RecordType::kImageFacts;
    uint64_t request_t_ns = 0;  // t_ns of the ExecAttempt or Created record it answers
    uint32_t image_flags = 0;   // ImageFlag
    Text path;                  // the file inspected

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.request_t_ns);
        v(s.image_flags);
        v(s.path);
    }
};

// A fork episode opens (the header's pid is the child).
struct EpisodeStart {
    static constexpr RecordType kType = RecordType::kEpisodeStart;
    int32_t parent = 0;
    uint64_t fork_t_ns = 0;    // 0: the header's t_ns
    Text mode;                 // "exact" | "unprivileged"
    bool split_known = false;  // copied by parent/child are meaningful
    uint64_t shared_bytes = 0;
    uint64_t zero_page_bytes = 0;
    uint64_t thp_bytes = 0;
    uint64_t ksm_bytes = 0;
    TextList approximations;
    uint64_t baseline_t_ns = 0;  // when the collector read the child's fork-time memory; 0: unknown
    // `cowtrace attach`: the fork was under way when the trace began (the child had not exec'd):
    // the figures "at fork" are the memory read at the attach, and copies already made then
    // count with no side.
    bool under_way_at_attach = false;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.parent);
        v(s.fork_t_ns);
        v(s.mode);
        v(s.split_known);
        v(s.shared_bytes);
        v(s.zero_page_bytes);
        v(s.thp_bytes);
        v(s.ksm_bytes);
        v(s.approximations, kMaxApproximationBytes);
        v(s.baseline_t_ns);
        v(s.under_way_at_attach);
    }
};

struct EpisodeSample {
    static constexpr RecordType kType = RecordType::kEpisodeSample;
    uint64_t shared_bytes = 0;
    uint64_t copied_bytes = 0;
    uint64_t copied_by_parent_bytes = 0;
    uint64_t copied_by_child_bytes = 0;
    uint64_t retained_bytes = 0;
    uint64_t child_new_bytes = 0;
    uint64_t census_cost_ns = 0;
    // Estimated from a sample of the pages shared at the last exact census (copy_estimate.hpp)
    // rather than counted: copied_bytes is then within ± copied_error_bytes (95 %).
    bool estimated = false;
    uint64_t copied_error_bytes = 0;
    uint64_t pages_read = 0;  // an estimate's sample size

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.shared_bytes);
        v(s.copied_bytes);
        v(s.copied_by_parent_bytes);
        v(s.copied_by_child_bytes);
        v(s.retained_bytes);
        v(s.child_new_bytes);
        v(s.census_cost_ns);
        v(s.estimated);
        v(s.copied_error_bytes);
        v(s.pages_read);
    }
};

struct EpisodeEnd {
    static constexpr RecordType kType = RecordType::kEpisodeEnd;
    EpisodeEndReason reason = EpisodeEndReason::kRunning;
    // The final figures are the last sample's: no census was taken at the end (it would have
    // kept the child waiting too long a share of its life).
    bool final_from_last_sample = false;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.reason);
        v(s.final_from_last_sample);
    }
};

// Resident memory of one process (smaps_rollup), in bytes.
struct MemorySample {
    static constexpr RecordType kType = RecordType::kMemorySample;
    uint64_t rss_bytes = 0;
    uint64_t pss_bytes = 0;
    uint64_t private_dirty_bytes = 0;
    uint64_t shared_dirty_bytes = 0;
    uint64_t anonymous_bytes = 0;
    uint64_t swap_bytes = 0;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.rss_bytes);
        v(s.pss_bytes);
        v(s.private_dirty_bytes);
        v(s.shared_dirty_bytes);
        v(s.anonymous_bytes);
        v(s.swap_bytes);
    }
};

// One region of an episode: [heap], [stack], [anon:name], [anon], or a file's path.
struct RegionFigures {
    Text name;
    uint64_t shared_bytes_at_fork = 0;
    uint64_t copied_bytes = 0;
    uint64_t copied_by_parent_bytes = 0;
    uint64_t copied_by_child_bytes = 0;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.name, kMaxPathInRecord);
        v(s.shared_bytes_at_fork);
        v(s.copied_bytes);
        v(s.copied_by_parent_bytes);
        v(s.copied_by_child_bytes);
    }
};

// Only the regions whose figures changed since the episode's previous EpisodeRegions.
struct EpisodeRegions {
    static constexpr RecordType kType = RecordType::kEpisodeRegions;
    ItemList<RegionFigures, uint32_t> regions;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.regions);
    }
};

inline constexpr size_t kMaxCopyPathBytes = 16 * 1024;  // the frames of one call path

// One call path behind an episode's copies, from its sampled page faults (docs/REPORTS.md,
// "Which code copied"). Written after the episode's end; the header's pid is the child.
struct CopyPath {
    static constexpr RecordType kType = RecordType::kCopyPath;
    uint64_t fork_t_ns = 0;  // the episode's (its EpisodeStart's fork_t_ns)
    CopySide side = CopySide::kParent;
    uint64_t samples = 0;
    uint64_t copied_bytes = 0;  // estimated: the faults the samples stand for, in pages
    TextList frames;  // innermost first: "function (file:line)", "function", "module+0x1f"

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.fork_t_ns);
        v(s.side);
        v(s.samples);
        v(s.copied_bytes);
        v(s.frames, kMaxCopyPathBytes);
    }
};

// How an episode's copies were attributed (after its CopyPath records), or why they were not.
struct CopyAttribution {
    static constexpr RecordType kType = RecordType::kCopyAttribution;
    uint64_t fork_t_ns = 0;
    Text unavailable;     // empty: attributed; else why not (one line)
    uint64_t period = 0;  // faults per sample (the last one, if it adapted)
    uint64_t samples = 0;
    uint64_t copy_samples = 0;
    uint64_t new_page_samples = 0;  // faults on pages not shared at fork
    uint64_t repeat_samples = 0;    // a page's later faults: no copy
    uint64_t lost_samples = 0;      // the kernel could not write them (ring full)
    uint64_t attributed_bytes = 0;  // the sum of the CopyPath records' copied_bytes

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.fork_t_ns);
        v(s.unavailable);
        v(s.period);
        v(s.samples);
        v(s.copy_samples);
        v(s.new_page_samples);
        v(s.repeat_samples);
        v(s.lost_samples);
        v(s.attributed_bytes);
    }
};

}  // namespace cowtrace::wire

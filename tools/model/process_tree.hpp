// The report model: every process of a trace, who created it, what it exec'd and how it ended,
// rebuilt from the shim's records and cross-checked with the kernel's. Renderers are views of
// this one model.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "call_site.hpp"
#include "command_line.hpp"
#include "copied_ptr.hpp"
#include "exec_path.hpp"
#include "interned_text.hpp"
#include "list_arena.hpp"
#include "presence_bits.hpp"
#include "wire/record.hpp"

namespace cowtrace::model {

// What cowtrace learned about the program an exec ran: the collector's inspection of the file
// and the library's own decisions. Each fact is a reason the new image may not be traced. One
// bit each: 9 bytes became 2 (issue 15).
struct ExecImage {
    bool static_binary : 1 = false;      // no dynamic loader: a preloaded library cannot load
    bool setid : 1 = false;              // a set-user/group-ID bit takes effect: LD_PRELOAD dropped
    bool file_capabilities : 1 = false;  // file capabilities take effect: likewise
    bool script : 1 = false;             // #!: its interpreter is what runs
    bool not_elf : 1 = false;
    bool foreign_arch : 1 = false;
    bool unreadable : 1 = false;       // the file could not be inspected
    bool without_library : 1 = false;  // no room for LD_PRELOAD in the environment
    bool other_uid : 1 = false;        // runs as a uid that cannot reach the collector

    void merge(const ExecImage& other);
    bool any() const;
};

// The flags are bits: 56 bytes an exec became 40 (issue 15).
struct ExecEvent {
    uint64_t t_ns = 0;        // since the trace started
    ExecPath path;            // the file the successful execve ran (AT_EXECFN), else as passed
    ExecPath requested_path;  // as the program passed it (execvp: the bare name)
    CommandLine argv;
    int error = 0;  // errno when it failed
    ExecImage image;
    bool argv_truncated : 1 = false;
    bool ok : 1 = false;
    bool confirmed : 1 = false;  // the new image (or the kernel) said so
    bool resolved : 1 = false;   // the attempt's outcome is known (or assumed at the end)
    bool env_reinjected : 1 = false;
};

// Who said how a process ended, from least to most trusted: its own exit call can be followed
// by a death (a signal during atexit handlers); whoever reaped it saw the real status; the
// kernel's exit event is the final word.
enum class ExitSource : uint8_t { kNone, kSelf, kParent, kCollector, kKernel };
bool more_trusted_or_equal(ExitSource a, ExitSource b);

// The one-byte fields together: 16 bytes became 12, 8 of a process's (issue 15).
struct ExitStatus {
    enum class Kind : uint8_t { kUnknown, kCode, kSignal };
    int code = 0;    // kCode
    int signal = 0;  // kSignal
    Kind kind = Kind::kUnknown;
    bool core = false;
    ExitSource source = ExitSource::kNone;
};

// How copy-on-write was measured: frame numbers (root), the exclusive bit, or not at all.
enum class CensusMode : uint8_t { kOff, kExact, kUnprivileged };

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
    uint64_t shared_bytes = 0;            // still one page for both
    uint64_t copied_bytes = 0;            // shared at fork, now two pages
    uint64_t copied_by_parent_bytes = 0;  // exact mode only
    uint64_t copied_by_child_bytes = 0;   // exact mode only
    uint64_t retained_bytes = 0;          // kept alive by the child only: the parent freed them
    uint64_t child_new_bytes = 0;         // the child's own new pages
    bool exact = true;                    // counted page by page; else estimated from a sample
    uint64_t error_bytes = 0;             // estimated: copied_bytes is within ± this (95 %)
};

// One memory region of an episode, named as in /proc/<pid>/maps: [heap], [stack], [anon:name],
// [anon] for unnamed anonymous memory, a path for a private file mapping.
struct CowRegion {
    InternedText name;  // shared by every episode's region of that name
    uint64_t shared_bytes_at_fork = 0;
    uint64_t copied_bytes_final = 0;
    uint64_t copied_bytes_peak = 0;
    uint64_t copied_by_parent_bytes = 0;  // final; exact mode only
    uint64_t copied_by_child_bytes = 0;
};

// From a fork (not vfork/posix_spawn: those share memory) until the child execs or exits.
// One call path behind an episode's copies, from sampled page faults.
struct CopyPath {
    std::vector<std::string> frames;  // innermost first
    wire::CopySide side = wire::CopySide::kParent;
    uint64_t copied_bytes = 0;  // estimated from the samples
    uint64_t samples = 0;
};

// How an episode's copies were attributed to code, or why not.
struct CopyAttributionFigures {
    std::string unavailable;  // empty: attributed
    uint64_t period = 0;      // faults per sample
    uint64_t samples = 0;
    uint64_t copy_samples = 0;
    uint64_t new_page_samples = 0;
    uint64_t repeat_samples = 0;
    uint64_t lost_samples = 0;
    uint64_t attributed_bytes = 0;
};

// Fields ordered by size, the one-byte ones together: 320 bytes an episode became 280 (issue 15);
// what few episodes have behind one pointer, optional figures as values with presence bits and
// the child's index in 32 bits: 168; the final figures read from the last sample and the
// attribution a pointer of its own: 136; its lists as 32-bit offset and count and the attribution
// a 32-bit index beside the 32-bit fields: 112; the child's minor faults read from its process:
// 104. Its lists, final figures, attribution and the child's minor faults are the tree's to show
// (samples_of(e), copied_bytes_final(e), attribution_of(e), child_minor_faults(e)).
struct ForkEpisode {
    // Measured, or short-lived: the child exec'd or exited before the collector read its
    // fork-time memory (nothing of its copy-on-write is known but its own minor faults).
    enum class Census : uint8_t { kMeasured, kShortLived };
    enum class End : uint8_t { kExit, kExec, kRunning };
    // What few episodes have (none of a spawn loop's, none of a build's): 64 bytes an episode as
    // fields, 8 behind a pointer that most leave null.
    struct Rarities {
        uint64_t zero_page_bytes_at_fork = 0;  // mapped to the zero page: not real memory
        uint64_t thp_bytes_at_fork = 0;        // in transparent huge pages
        uint64_t ksm_bytes_at_fork = 0;        // KSM-merged pages
        // Not measured because its parent ended (at this time) before the child's memory was
        // read (a daemon's fork): nothing stayed shared with it, whatever the child's own life.
        std::optional<uint64_t> parent_ended_first_ns;
        // Which code copied: call paths, largest first.
        std::vector<CopyPath> copy_paths;
    };

    pid_t parent = 0;
    pid_t child = 0;
    uint32_t child_index = 0;  // into ProcessTree::processes
    // Kept in the tree's episode_samples and episode_regions (ask the tree: samples_of(e),
    // regions_of(e)): both lists are made when the episode ends and never change after. Equal
    // region lists are kept once for all. Beside the 32-bit fields: 16 bytes, as spans 32.
    ListRef<CowSample> samples;
    ListRef<CowRegion> regions;
    Census census = Census::kMeasured;
    End end = End::kRunning;
    CensusMode mode = CensusMode::kExact;
    bool split_known = false;             // copied_by_parent/child are meaningful
    bool final_from_last_sample = false;  // no census at the end: the final figures are a sample's
    // `attach`: the child had not exec'd when the trace began. "At fork" means at the attach;
    // copies made before it are in copied_bytes with no side (split_known or not).
    bool under_way_at_attach = false;

private:
    enum PresenceBit : unsigned { kEnd, kBaselineDelay };
    PresenceBits present_;  // with the one-byte fields: of end_ns_ and the others below
    bool attributed_ = false;
    uint32_t attribution_ = 0;  // into ProcessTree::episode_attributions, when attributed_

public:
    uint64_t t_ns = 0;  // the fork
    uint64_t shared_bytes_at_fork = 0;
    uint64_t copied_bytes_peak = 0;
    // Why some figures are estimates: a census states the same one or two sentences (of 100 to
    // 250 bytes) for every episode, so the list is interned, shared by every episode alike.
    SentenceList approximations;
    uint64_t census_cost_ns = 0;  // total time the collector spent measuring this episode

    std::optional<uint64_t> end_ns() const { return present_.get(kEnd, end_ns_); }
    void set_end_ns(std::optional<uint64_t> t) { present_.set(kEnd, end_ns_, t); }
    // From the fork to the read of its memory.
    std::optional<uint64_t> baseline_delay_ns() const {
        return present_.get(kBaselineDelay, baseline_delay_ns_);
    }
    void set_baseline_delay_ns(std::optional<uint64_t> ns) {
        present_.set(kBaselineDelay, baseline_delay_ns_, ns);
    }

    uint64_t zero_page_bytes_at_fork() const { return rare_ ? rare_->zero_page_bytes_at_fork : 0; }
    uint64_t thp_bytes_at_fork() const { return rare_ ? rare_->thp_bytes_at_fork : 0; }
    uint64_t ksm_bytes_at_fork() const { return rare_ ? rare_->ksm_bytes_at_fork : 0; }
    std::optional<uint64_t> parent_ended_first_ns() const {
        return rare_ ? rare_->parent_ended_first_ns : std::nullopt;
    }
    std::span<const CopyPath> copy_paths() const {
        return rare_ ? std::span<const CopyPath>(rare_->copy_paths) : std::span<const CopyPath>();
    }
    // To set any of them (the build, tests): made on first use.
    Rarities& rarities() { return rare_.made(); }

    // How its copies were attributed to code (ask the tree: attribution_of(e)); none: not at all.
    // Kept once in the tree's episode_attributions for every episode with the same figures. Not
    // a Rarity: a census with attribution on gives one to most episodes (a bash loop's every one
    // paid the Rarities' allocation, 96 bytes, for it). An index of 32 bits: a pointer was 8.
    std::optional<uint32_t> attribution_index() const {
        return attributed_ ? std::optional<uint32_t>(attribution_) : std::nullopt;
    }
    // One kept in the tree's episode_attributions.
    void set_attribution(ListRef<CopyAttributionFigures> kept) {
        attributed_ = !kept.empty();
        attribution_ = kept.first;
    }

private:
    uint64_t end_ns_ = 0;
    uint64_t baseline_delay_ns_ = 0;
    CopiedPtr<Rarities> rare_;
};

// Fields ordered by size, the one-byte ones together: 200 bytes a process became 176 (issue 15);
// its two optional figures as values with presence bits and its children a span, 152; its
// memory samples and execs spans and its exit status packed, 128; its three lists as 32-bit
// offset and count instead of spans, 104; its flags one bit each and its record losses behind a
// pointer, 96 (the 32-bit fields first, then the 64-bit ones: no padding).
struct Process {
    pid_t pid = 0;
    pid_t ppid = -1;  // the process that created it, even if later reparented
    wire::CreateHow how = wire::CreateHow::kUnknown;
    bool creation_seen_by_shim : 1 = false;  // a shim record reported its creation
    bool creation_seen_by_kernel : 1 = false;
    bool shim_loaded : 1 = false;    // the library ran in it (a hello or any record of its own)
    bool still_running : 1 = false;  // alive when the trace ended
    bool deepbind : 1 = false;       // loaded a RTLD_DEEPBIND plugin
    // Alive when this trace file began (a rotated trace): its creation, and the first of its
    // records, are in the file before.
    bool carried_over : 1 = false;

private:
    enum PresenceBit : unsigned { kEnd, kFirstImageMinorFaults };
    PresenceBits present_;  // with the one-byte fields: of end_ns_ and first_image_minor_faults_

public:
    ExitStatus exit;
    // In time order, kept in ProcessTree::process_execs (ask the tree: execs_of(p)): made at the
    // end of the build, which changes them until then (a vector and an allocation each were 32
    // bytes a process).
    ListRef<ExecEvent> execs;
    // Indices into ProcessTree::processes, kept in ProcessTree::process_children (ask the tree:
    // children_of(p)): made once, when the build links parents, as one list for the tree (a
    // vector each was 24 bytes a process, most of them empty, and an allocation for each parent).
    // 32 bits each, as ForkEpisode::child_index: a size_t was 8 bytes a process.
    ListRef<uint32_t> children;
    // In time order, kept in ProcessTree::process_memory (ask the tree: memory_of(p)): made at
    // the end of the build (most processes have none; a vector was 24 bytes each).
    ListRef<MemorySample> memory;
    uint64_t start_ns = 0;
    CallSite call_site;  // return addresses in the creator, shared by every child of that site
    CommandLine argv;    // the image's command line (hello), before any exec we saw

    // Numbers that never arrived.
    uint32_t seq_gaps() const { return losses_ ? losses_->seq_gaps : 0; }
    void add_seq_gaps(uint32_t n) {
        if (n != 0) losses_.made().seq_gaps += n;
    }
    // Counted by the library: neither sent nor spooled.
    uint64_t dropped_records() const { return losses_ ? losses_->dropped_records : 0; }
    void add_dropped_records(uint64_t n) {
        if (n != 0) losses_.made().dropped_records += n;
    }
    // A record the library dropped also leaves a hole in the numbering: the larger of the two.
    uint64_t records_lost() const {
        return seq_gaps() > dropped_records() ? seq_gaps() : dropped_records();
    }

    std::optional<uint64_t> end_ns() const { return present_.get(kEnd, end_ns_); }
    void set_end_ns(std::optional<uint64_t> t) { present_.set(kEnd, end_ns_, t); }
    // As its first image exec'd or exited.
    std::optional<uint64_t> first_image_minor_faults() const {
        return present_.get(kFirstImageMinorFaults, first_image_minor_faults_);
    }
    void set_first_image_minor_faults(std::optional<uint64_t> n) {
        present_.set(kFirstImageMinorFaults, first_image_minor_faults_, n);
    }

private:
    // What a process with every record has none of (12 bytes as fields, 8 behind a pointer that
    // nearly every process leaves null).
    struct RecordLosses {
        uint32_t seq_gaps = 0;
        uint64_t dropped_records = 0;
    };

    uint64_t end_ns_ = 0;
    uint64_t first_image_minor_faults_ = 0;
    CopiedPtr<RecordLosses> losses_;
};

struct TraceNote {
    uint64_t t_ns = 0;
    int severity = 0;  // 0 info, 1 notice, 2 warning
    std::string text;
};

struct ProcessTree {
    pid_t root_pid = 0;
    pid_t collector_pid = 0;
    uint64_t t0_ns = 0;       // CLOCK_MONOTONIC of the trace start
    uint64_t wall_t0_ns = 0;  // CLOCK_REALTIME of the same instant
    uint64_t end_ns = 0;      // since t0
    std::vector<std::string> command;
    std::string kernel_release;
    std::string host;
    bool kernel_events = false;
    std::string kernel_events_note;
    CensusMode census_mode = CensusMode::kOff;
    uint64_t interval_ns = 0;
    uint32_t page_size = 4096;
    std::optional<int> root_status;  // wait(2) status of the command
    bool complete = false;           // the trace has its end record
    std::string reader_error;        // the file was damaged after this point
    uint64_t shim_records = 0;
    uint64_t rejected_records = 0;
    uint64_t kernel_events_lost = 0;
    uint64_t dropped_records = 0;
    std::vector<Process> processes;
    std::vector<ForkEpisode> episodes;
    // Where the episodes' and processes' lists are (an episode or process holds a ListRef).
    ListArena<CowSample> episode_samples;
    ListArena<CowRegion> episode_regions;
    ListArena<uint32_t> process_children;
    ListArena<MemorySample> process_memory;
    ListArena<ExecEvent> process_execs;
    ListArena<CopyAttributionFigures> episode_attributions;
    uint64_t sampling_interval_ns = 0;  // the interval actually used (stretched to its duty cycle)
    bool fork_children_measured_from_outside = false;  // a fork child without episode: short-lived
    bool attached = false;  // `cowtrace attach`: observed from outside, from a running start
    std::vector<TraceNote> notes;
    std::map<std::pair<pid_t, uint64_t>, std::string>
        symbols;  // (pid, ip) → "function (file.c:42)", "function (module)", "module+0x1a"
    // (pid, ip) → where the symbol's code was inlined: the functions around it, innermost first
    // (the last holds the address). Absent when not inlined.
    std::map<std::pair<pid_t, uint64_t>, std::vector<std::string>> symbols_inlined_into;

    std::span<const CowSample> samples_of(const ForkEpisode& e) const {
        return episode_samples.list(e.samples);
    }
    std::span<const CowRegion> regions_of(const ForkEpisode& e) const {
        return episode_regions.list(e.regions);
    }
    std::span<const ExecEvent> execs_of(const Process& p) const {
        return process_execs.list(p.execs);
    }
    std::span<const uint32_t> children_of(const Process& p) const {
        return process_children.list(p.children);
    }
    std::span<const MemorySample> memory_of(const Process& p) const {
        return process_memory.list(p.memory);
    }
    // Null: not attributed.
    const CopyAttributionFigures* attribution_of(const ForkEpisode& e) const {
        std::optional<uint32_t> i = e.attribution_index();
        return i ? &episode_attributions.list({*i, 1})[0] : nullptr;
    }
    // An episode's final figures are its last sample's (every one the census writes is a sample:
    // 40 bytes an episode as copies); none without samples.
    uint64_t copied_bytes_final(const ForkEpisode& e) const {
        return e.samples.empty() ? 0 : last_sample_of(e).copied_bytes;
    }
    uint64_t copied_by_parent_bytes(const ForkEpisode& e) const {
        return e.samples.empty() ? 0 : last_sample_of(e).copied_by_parent_bytes;
    }
    uint64_t copied_by_child_bytes(const ForkEpisode& e) const {
        return e.samples.empty() ? 0 : last_sample_of(e).copied_by_child_bytes;
    }
    uint64_t retained_bytes_final(const ForkEpisode& e) const {
        return e.samples.empty() ? 0 : last_sample_of(e).retained_bytes;
    }
    uint64_t child_new_bytes_final(const ForkEpisode& e) const {
        return e.samples.empty() ? 0 : last_sample_of(e).child_new_bytes;
    }
    // The child's own, as its first image exec'd or ended (getrusage): its process's figure, which
    // the episode kept a copy of (8 bytes an episode).
    std::optional<uint64_t> child_minor_faults(const ForkEpisode& e) const {
        return e.child_index < processes.size()
                   ? processes[e.child_index].first_image_minor_faults()
                   : std::nullopt;
    }

    const Process* find_current(pid_t pid) const;
    std::vector<size_t> roots() const;  // processes with no known creator in the trace

private:
    const CowSample& last_sample_of(const ForkEpisode& e) const { return samples_of(e).back(); }
};

// The words every renderer uses for a domain value, in one place.
std::string create_how_name(wire::CreateHow how);
std::string census_mode_name(CensusMode mode);    // "exact" | "unprivileged" | "off"
std::string exit_source_name(ExitSource source);  // "kernel" | "parent" | "collector" | "self"
std::string image_text(const ExecImage& image);   // "static,script", for the JSON report

// What cowtrace could not see about a process: each one a reason its record may be incomplete.
enum class Limitation : uint8_t {
    kUntracedCreation,    // no library record reported its creation
    kNotInstrumented,     // no record of its own reached the collector
    kExecStaticImage,     // it exec'd a static binary
    kExecSetidImage,      // it exec'd a set-id or file-capability program
    kExecWithoutLibrary,  // it exec'd without LD_PRELOAD (no room in the environment)
    kExecAsOtherUid,      // it exec'd as a uid that cannot reach the collector
    kDeepbindPlugin,      // it loaded a RTLD_DEEPBIND plugin, whose calls bypass the library
    kStillRunning,        // alive when the trace ended
    kRecordsMissing,      // some of its records were lost
    kCarriedOver,      // alive when this (rotated) trace file began: its start is in the one before
    kRunningAtAttach,  // `attach`: running when the trace began, its start and past unseen
};
std::vector<Limitation> limitations_of(const ProcessTree& tree, const Process& p);
std::string limitation_id(Limitation l);     // "untraced_creation": the JSON flag
std::string limitation_words(Limitation l);  // "created by an untraced mechanism": text, HTML

}  // namespace cowtrace::model

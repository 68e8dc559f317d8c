// Trace rotation for a collector that runs for weeks (`cowtrace record --rotate-size SIZE
// --rotate-age DURATION --keep N`). Every rotated file is a complete trace that every command
// reads on its own: the ending file gets what closes it (open episodes written as still
// running, its symbols, its end record naming the processes still alive), the new one what a
// reader needs to know the processes it did not see start (a ProcessCarried record each, and
// the start of every open episode again).
//
// What it keeps is bounded by what is alive: a process is forgotten when it is gone, an episode
// when it ends.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "trace/trace_writer.hpp"
#include "wire/record.hpp"

namespace cowtrace::collector {

struct RotationOptions {
    uint64_t max_bytes = 0;   // 0: no size limit
    uint64_t max_age_ns = 0;  // 0: no age limit
    unsigned keep = 7;        // rotated files kept: PATH.1 (newest) … PATH.keep

    bool enabled() const { return max_bytes > 0 || max_age_ns > 0; }
};

class TraceRotation {
public:
    TraceRotation(RotationOptions options, std::string trace_path);

    // Every record the trace gets (TraceWriter::observe): learns the live processes and the
    // open episodes from the stream itself.
    void on_record(const uint8_t* record, size_t size);
    // The process is gone: nothing of it is carried any more.
    void process_gone(pid_t pid);

    // The file began at file_t0_ns and holds file_bytes: time to rotate?
    bool due(uint64_t now_ns, uint64_t file_t0_ns, uint64_t file_bytes) const;

    // Into the ending file: every open episode ends as still running (it goes on in the next).
    void close_episodes(TraceWriter& trace, uint64_t t_ns) const;
    // The processes a rotated file leaves alive, for its end record.
    std::vector<int32_t> alive() const;
    // The closed file becomes PATH.1, PATH.1 becomes PATH.2 …; the one past keep is removed.
    bool shift_files(std::string& error) const;
    // Into the new file, after its TraceStart at t_ns: each live process, then each open
    // episode's start (stamped t_ns, its fork time kept).
    void carry_over(TraceWriter& trace, uint64_t t_ns);

    size_t processes_known() const { return processes_.size(); }
    size_t episodes_open() const { return episodes_.size(); }

private:
    struct Known {
        pid_t creator = 0;
        wire::CreateHow how = wire::CreateHow::kUnknown;
        uint64_t start_t_ns = 0;
        bool library_loaded = false;
        std::string execfn;
        std::vector<std::string> argv;
        std::vector<uint64_t> call_site;  // in its creator
    };

    // A vfork child's call site is its creator's SpawnBegin, matched by token.
    void claim_begin(Known& k, pid_t parent, uint32_t token);
    static constexpr size_t kMaxPendingBegins = 16;  // per process: unclaimed ones are dropped

    RotationOptions opt_;
    std::string path_;
    std::unordered_map<pid_t, Known> processes_;
    std::unordered_map<pid_t, std::vector<uint8_t>> episodes_;  // child → its EpisodeStart
    // SpawnBegins not yet claimed by a child's ChildStart: creator → (token, call site).
    std::unordered_map<pid_t, std::vector<std::pair<uint32_t, std::vector<uint64_t>>>> begins_;
    // The names the ending file got for its frames (written just before a rotation), for the
    // carried processes' call sites; emptied once the new file has them.
    // A Symbol record's name, then its inlined_into.
    std::map<std::pair<pid_t, uint64_t>, std::vector<std::string>> symbols_;
};

}  // namespace cowtrace::collector

// Who created each process, and how. The creator's record (Created) names its child; a child
// whose creator cannot name it (vfork, system, popen, wordexp, daemon, raw syscall) claims the
// creator's SpawnBegin with a token or by kind; the kernel's fork event names every child's
// parent, traced or not.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "build_context.hpp"
#include "wire/collector_records.hpp"
#include "wire/shim_records.hpp"

namespace cowtrace::model {

class CreationMatcher {
public:
    explicit CreationMatcher(BuildContext& ctx) : ctx_(ctx) {}

    void on_created(const wire::RecordHeader& h, const wire::Created& created, uint64_t t);
    void on_child_start(const wire::RecordHeader& h, const wire::ChildStart& start, uint64_t t);
    void on_spawn_begin(const wire::RecordHeader& h, const wire::SpawnBegin& begin, uint64_t t);
    void on_kernel_fork(const wire::RecordHeader& h, const wire::KernelFork& fork, uint64_t t);
    // system(), popen() and wordexp() never name their child: it is the next child of the same
    // parent to introduce itself, with the hello of the shell it execs.
    void claim_unnamed_spawn(Process& p, pid_t ppid);
    // system() and pclose() return the status of a child whose pid the caller never learns:
    // the child that claimed the matching begin, if known (nullptr otherwise).
    Process* reaped_unnamed_child(const wire::RecordHeader& h, wire::WaitCall call);
    // The collector's inspection of a posix_spawn's file; false if no spawn matches.
    bool on_image_facts(const wire::RecordHeader& h, const wire::ImageFacts& facts);
    // A posix_spawn child runs what its creator passed: its first exec, if nothing better said.
    void finalize();

private:
    struct SpawnBegin {
        uint64_t t_ns;
        pid_t tid;  // the caller's thread: system() begins and ends on it
        wire::CreateHow how;
        uint32_t token;
        CallSite frames;
        bool used = false;
        size_t child = SIZE_MAX;  // the process that claimed it
        bool reaped = false;      // its system()/pclose() status has been booked
    };
    struct SpawnInfo {  // what a posix_spawn caller said it would run
        ExecPath path;
        CommandLine argv;
        ExecImage image;
    };

    void claim_begin_of_kind(Process& c, pid_t parent, wire::CreateHow how);
    template <class Accept>
    SpawnBegin* unclaimed_begin(pid_t parent, const Process& child, Accept accept);
    void claim(SpawnBegin& b, Process& p, pid_t parent);
    void claim_failed_spawn_child(const wire::RecordHeader& h, const wire::Created& created,
                                  const SpawnInfo& spawn, uint64_t t);
    Process& child_named_by_creator(pid_t child, pid_t creator, uint64_t t);

    BuildContext& ctx_;
    std::unordered_map<pid_t, std::vector<SpawnBegin>> unnamed_begins_;  // by creator pid
    std::vector<bool> named_by_creator_;  // by process: its creator's record named it
    std::unordered_map<size_t, SpawnInfo> spawn_info_;
    // (creator pid, t_ns) of each posix_spawn's Created → the child it made.
    std::map<std::pair<pid_t, uint64_t>, size_t> spawns_;
    // Processes the kernel saw created, by the thread that created them (failed spawns).
    std::unordered_map<pid_t, std::vector<size_t>> kernel_children_of_thread_;
};

}  // namespace cowtrace::model

// The tree's PSS kept as a collection goes, for the live views (the Prometheus gauge, the
// terminal's): the ledger (tree_pss_ledger.hpp) fed, by pid, with the processes' starts and
// ends, their memory samples and their fork episodes' shared bytes. One place for the rule the
// report's timeline also follows: a child that ends its episode by exiting (its final census)
// still shares its pages until it is gone, so its share passes back to the parent at its end,
// not at the episode's — sampled in between, it would count its half while the parent held it
// too. A child that execs lets go of them with the exec.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <unordered_map>
#include <unordered_set>

#include "model/tree_pss_ledger.hpp"

namespace cowtrace::model {

class LiveTreePss {
public:
    void process_started(pid_t pid);
    // Gone: what it still shared is its parent's alone again, and it counts nothing.
    void process_ended(pid_t pid);
    // A late sample of a process already gone is ignored.
    void memory_sampled(pid_t pid, uint64_t pss_bytes);

    void episode_started(pid_t child, pid_t parent, uint64_t shared_bytes);
    void episode_sampled(pid_t child, uint64_t still_shared_bytes);
    // child_exits: the episode ended with the child's exit (it lives on until its end is seen);
    // otherwise with its exec, or it was never measured.
    void episode_ended(pid_t child, bool child_exits);

    uint64_t total_bytes() const { return ledger_.total_bytes(); }
    uint64_t share_of(pid_t pid) const { return ledger_.share_of(static_cast<uint64_t>(pid)); }
    size_t tracked() const { return ledger_.tracked(); }

private:
    struct Sharing {
        pid_t parent = 0;
        uint64_t still_shared_bytes = 0;  // at the episode's latest sample
    };
    void sharing_ended(pid_t child);

    std::unordered_set<pid_t> alive_;
    std::unordered_map<pid_t, Sharing> sharing_;  // children whose share is not back yet
    TreePssLedger ledger_;
};

}  // namespace cowtrace::model

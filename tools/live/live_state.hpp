// What a live view shows, folded from the records a collection writes as it writes them (the
// same stream as the trace, decoded with the one schema): the processes alive now with their
// parent and command, the fork episodes open now with their shared and copied bytes and the
// rate of copying between their last two samples, the episodes just ended, and the tree's PSS
// (model/live_tree_pss.hpp, as the metrics exporter keeps it). Memory stays flat: what is
// known of a process is dropped when it ends.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "collector/collection_observer.hpp"
#include "model/live_tree_pss.hpp"
#include "wire/record.hpp"

namespace cowtrace::live {

struct LiveProcess {
    bool alive = false;   // false: heard of in a record, not (yet) seen alive by the session
    pid_t parent = 0;     // 0: unknown
    std::string command;  // its command line, or its image; empty: not known yet
};

struct LiveEpisode {
    pid_t parent = 0;
    // The parent's command when it forked: the parent may end, and be forgotten, before the
    // episode's end is read (its final census is taken on the census thread).
    std::string parent_command;
    uint64_t fork_t_ns = 0;
    uint64_t shared_bytes = 0;       // at the fork
    uint64_t copied_bytes = 0;       // at the latest sample
    uint64_t copied_peak_bytes = 0;  // the largest counted figure (not an estimate)
    bool estimated = false;          // the latest figure is an estimate, not a count
    size_t samples = 0;
    uint64_t last_sample_t_ns = 0;
    double copied_bytes_per_s = 0;  // between the last two samples; 0 before the second
};

struct EndedEpisode {
    pid_t parent = 0;
    pid_t child = 0;
    std::string command;  // the parent's
    uint64_t duration_ns = 0;
    uint64_t shared_bytes = 0;
    uint64_t copied_bytes = 0;  // the peak, as the report has it (the last estimate if none)
    bool measured = false;      // false: it ended before its first sample
    bool estimated = false;
};

class LiveState : public collector::CollectionObserver {
public:
    void on_record(const uint8_t* record, size_t size) override;
    void on_process_started(pid_t pid) override;
    void on_process_ended(pid_t pid) override;

    // Called with each episode as it ends (attach --live without a terminal prints it).
    std::function<void(const EndedEpisode&)> on_episode_ended;

    // The processes alive now (and the few heard of, not yet seen alive: .alive), by pid.
    const std::map<pid_t, LiveProcess>& processes() const { return processes_; }
    // The episodes open now, by child pid.
    const std::map<pid_t, LiveEpisode>& episodes() const { return episodes_; }
    // The last kRecentEnded episodes ended, oldest first.
    const std::deque<EndedEpisode>& recently_ended() const { return ended_; }
    uint64_t tree_pss_bytes() const { return tree_pss_.total_bytes(); }
    uint64_t pss_of(pid_t pid) const { return tree_pss_.share_of(static_cast<uint64_t>(pid)); }
    uint64_t processes_seen() const { return processes_seen_; }
    uint64_t episodes_seen() const { return episodes_seen_; }
    uint64_t copied_bytes_total() const { return copied_ended_bytes_ + copied_open_bytes(); }

    static constexpr size_t kRecentEnded = 8;

private:
    LiveProcess& process(pid_t pid);
    void set_parent(pid_t child, pid_t parent, bool inherits_command);
    void set_command(pid_t pid, std::string command);
    void episode_started(pid_t child, pid_t parent, uint64_t t_ns, uint64_t shared_bytes);
    void episode_sampled(pid_t child, uint64_t t_ns, uint64_t shared_bytes, uint64_t copied_bytes,
                         bool estimated);
    void episode_ended(pid_t child, uint64_t t_ns, wire::EpisodeEndReason reason);
    uint64_t copied_open_bytes() const;

    std::set<pid_t> alive_;
    std::map<pid_t, LiveProcess> processes_;  // alive ones (and ones heard of, not yet started)
    std::map<pid_t, LiveEpisode> episodes_;
    std::deque<EndedEpisode> ended_;
    model::LiveTreePss tree_pss_;
    uint64_t processes_seen_ = 0;
    uint64_t episodes_seen_ = 0;
    uint64_t copied_ended_bytes_ = 0;
};

}  // namespace cowtrace::live

// Names the code behind each fork episode's copies: samples the page faults of both sides for the
// episode's life (PageFaultSampler), unwinds each sample's stack in the collector
// (SampledStackUnwinder), keeps the faults that copied a page shared at fork (CopyAttribution),
// and at the episode's end writes its call paths, symbolized (SourceSymbolizer), as CopyPath
// records and a CopyAttribution summary. Runs on its own thread: nothing here slows the census
// or the event loop, and nothing runs in the traced processes.
//
// Cost (research §3): a sample with registers and 8 KiB of stack costs the faulting thread
// ~3.7 µs against ~3 µs for a copy-on-write fault. `sampled` starts at one fault in
// kBasePeriod and lengthens the period while samples come faster than kMaxSamplesPerSecond, which
// bounds what attribution adds to an episode's own fault handling to a few percent; `full`
// samples every fault (a test or a short run: it can double the cost of each copy).
//
// An episode's events are opened only once it has lasted SamplingDelay's hold-off (2 ms): most
// of a spawn-heavy program's forks exec sooner, and opening and closing their events was a
// large part of the collector's CPU (sampling_delay.hpp).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "copy_attribution.hpp"
#include "mapped_elf_files.hpp"
#include "page_fault_sampler.hpp"
#include "sampled_stack_unwinder.hpp"
#include "sampling_delay.hpp"
#include "source_symbolizer.hpp"

namespace cowtrace::collector {

enum class AttributionMode { kOff, kSampled, kFull };

// "off", "sampled", "full" → mode; false if it is none of them.
bool parse_attribution_mode(const std::string& text, AttributionMode& out);

class FaultAttributor {
public:
    static constexpr uint64_t kBasePeriod = 31;  // prime: regular write patterns do not alias
    static constexpr uint64_t kMaxSamplesPerSecond = 2000;

    using Deliver = std::function<void(std::vector<std::vector<uint8_t>> records)>;

    FaultAttributor(AttributionMode mode, Deliver deliver);
    ~FaultAttributor();
    FaultAttributor(const FaultAttributor&) = delete;
    FaultAttributor& operator=(const FaultAttributor&) = delete;

    // Opens the sample rings and starts the thread; false with a one-line reason (the kernel or
    // perf_event_paranoid forbids it) — the rest of the trace is unaffected.
    bool start(std::string& error);

    // From the census's thread. A fork episode began: sample both sides once it has lasted the
    // hold-off.
    void episode_started(pid_t parent, pid_t child, uint64_t fork_t_ns);
    // Its fork-time pages, once the baseline was read (sorted address runs [start, end)).
    void fork_pages_known(pid_t child, std::vector<std::pair<uint64_t, uint64_t>> runs);
    // It ended at ended_t_ns (the trace's clock: its exec or exit, not when the census thread
    // got to it, which on a loaded machine can be much later).
    void episode_ended(pid_t child, uint64_t ended_t_ns);
    // It was never measured (its memory could not be read as a copy): nothing is written.
    void episode_cancelled(pid_t child);
    // parent's child forked at fork_t_ns ended at ended_t_ns before its memory was read (no
    // episode was started): its parent's children are quick (SamplingDelay). Never wakes the
    // thread.
    void child_ended_unread(pid_t parent, uint64_t fork_t_ns, uint64_t ended_t_ns);
    // Ends every open episode, writes what remains and stops the thread.
    void finish();

private:
    struct Command {
        enum class Kind { kStart, kPages, kEnd, kCancel, kUnread, kFinish } kind;
        pid_t parent = 0;
        pid_t child = 0;
        uint64_t t_ns = 0;  // kStart, kUnread: the fork
        std::vector<std::pair<uint64_t, uint64_t>> runs;
        uint64_t ended_ns = 0;   // kEnd, kUnread: the exec or exit (0: unknown)
        uint64_t posted_ns = 0;  // when the census thread sent it
    };
    struct Episode {
        std::unique_ptr<CopyAttribution> copies;
        bool sampled = false;     // its events are open (false while it is held off)
        std::string unavailable;  // why the faults of a side could not be sampled
        PageFaultSampler::Counts counts_at_start;
    };

    void post(Command command);
    // When command must be handled (CLOCK_MONOTONIC; 0: at once, UINT64_MAX: whenever).
    uint64_t due_ns(const Command& command) const;
    // The records of the episodes ended since the last call, in one hand-over.
    void deliver_pending();
    void run();
    void handle(Command& command);
    void drain();
    // Opens the events of the held-off episodes that have lasted the hold-off by now.
    void open_due(uint64_t now_ns);
    void open_episode(pid_t child, Episode& e);
    void on_sample(const FaultSample& sample);
    void end_episode(pid_t child, uint64_t ended_t_ns);
    void adapt_period(uint64_t now_ns);
    // A process is sampled while an episode needs it (it may be the parent of several). A child
    // forked after its parent's events were opened inherited them (inherit=1): it gets no
    // events of its own, which would sample its faults twice.
    bool hold(pid_t pid, std::string& error);
    bool hold_child(pid_t parent, pid_t child, uint64_t fork_t_ns, std::string& error);
    void release(pid_t pid);
    uint32_t path_id(const std::vector<UnwoundFrame>& frames);
    std::vector<std::string> describe_path(uint32_t path);

    AttributionMode mode_;
    Deliver deliver_;
    PageFaultSampler sampler_;
    int wake_fd_ = -1;
    std::thread thread_;
    std::mutex mutex_;
    std::deque<Command> commands_;
    uint64_t sleeping_until_ns_ = 0;  // when the thread wakes by itself; 0: awake (under mutex_)
    std::atomic<size_t> sampled_episodes_{0};  // episodes whose events are open

    // The thread's own state.
    std::map<pid_t, Episode> episodes_;        // by child
    SamplingDelay delay_;                      // the episodes whose events are not open yet
    std::map<pid_t, int> holds_;               // sampled pid → episodes that need it
    std::map<pid_t, uint64_t> sampled_since_;  // sampled pid → when its events began
    // A child sampled through events it inherited: their period is the one at its fork (a
    // later PERF_EVENT_IOC_PERIOD changes only the events we opened).
    std::map<pid_t, uint64_t> inherited_period_;
    std::map<pid_t, pid_t> layout_of_;  // sampled pid → the pid whose maps it has
    std::map<pid_t, std::unique_ptr<SampledStackUnwinder>> unwinders_;  // by layout pid
    MappedElfFiles files_;
    SourceSymbolizer symbolizer_;
    std::map<std::vector<std::pair<std::string, uint64_t>>, uint32_t> path_ids_;
    std::vector<std::vector<UnwoundFrame>> paths_;
    uint64_t window_start_ns_ = 0;
    uint64_t window_samples_ = 0;
    std::vector<std::vector<uint8_t>> pending_;  // records for deliver_pending()
};

}  // namespace cowtrace::collector

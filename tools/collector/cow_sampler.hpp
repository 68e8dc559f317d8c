// The census service: one worker thread that reads each forked child's fork-time memory from
// outside as soon as the child is known (its baseline), samples every open fork episode at the
// sampling interval (every live process's smaps_rollup on a thread of its own, MemorySampler), and
// takes the final census when a child that lived long enough asks for it before it exits or execs.
// It reads /proc from outside: nothing runs in the traced processes, and only such a child waits
// (docs/ARCHITECTURE.md, "Who waits for what").
//
// Cost policy (DESIGN §5): the interval stretches so that sampling takes at most duty_cycle of
// one core; a final census is taken when it costs the child at most kFinalCensusShare of its life.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "census_service.hpp"
#include "core/copy_estimate.hpp"
#include "core/cow_census.hpp"
#include "fault_attributor.hpp"
#include "memory_sampler.hpp"

namespace cowtrace::collector {

class CowSampler : public CensusService {
public:
    CowSampler(TraceWriter& trace, Ack ack, CensusMode mode, uint64_t interval_ns,
               double duty_cycle, AttributionMode attribution = AttributionMode::kOff);
    ~CowSampler() override;

    // Starts the worker; call after the traced command was forked (the worker must not exist
    // in the child between fork and exec).
    void start();
    // Why copies are not attributed to code (attribution asked for, but the kernel or
    // perf_event_paranoid forbids sampling page faults); empty when they are, or when not asked.
    const std::string& attribution_unavailable() const { return attribution_unavailable_; }

    void on_forked_child(const ForkedChild& child) override;
    void on_request(const CensusRequest& request) override;
    void on_exec_attempt(pid_t pid, uint64_t t_ns) override;
    void on_process_gone(pid_t pid, uint64_t t_ns) override;
    void on_exec_failed(pid_t pid) override;
    uint64_t on_timer(uint64_t now_ns, const std::vector<pid_t>& live) override;
    int notify_fd() const override { return notify_fd_; }
    void collect_results() override;
    void finish(uint64_t t_ns) override;
    std::string mode_name() const override;
    uint64_t longest_interval_ns() const override { return max_interval_ns_.load(); }

protected:
    void open_batch() override { ++open_batches_; }
    void close_batch() override;

private:
    struct Job {
        enum class Kind {
            kBaseline,
            kFinal,
            kExecAttempt,
            kGone,
            kExecFailed,
            kTick,
            kFinish
        } kind;
        uint64_t connection_id = 0;
        pid_t child = 0;
        pid_t parent = 0;
        wire::EpisodeEndReason reason = wire::EpisodeEndReason::kExit;
        uint64_t t_ns = 0;
        uint64_t stack_pointer = 0;
        uint64_t thread_pointer = 0;
        bool outside = false;
        bool under_way_at_attach = false;
        bool exec_unannounced = false;  // it may have exec'd with no event to say so
        std::vector<pid_t> live;
    };
    struct Episode {
        pid_t parent = 0;
        pid_t child = 0;
        std::shared_ptr<pagemap::PagemapReader> parent_pm;
        std::shared_ptr<pagemap::PagemapReader> child_pm;
        EpisodeBaseline baseline;
        std::vector<RegionTotals> last_regions;  // as last written, to write only changes
        uint64_t fork_t_ns = 0;
        uint64_t baseline_t_ns = 0;  // when the child's pagemap was opened
        // The census thread's CPU for the last exact reading of it (baseline or census): what
        // the next one will cost. Not wall time: on a loaded machine that swings with the load
        // (and with a sanitized collector), and the same child's final census would be taken
        // or skipped by luck.
        uint64_t census_cpu_ns = 0;
        bool final_from_last_sample = false;  // its final census was not worth the wait
        bool final_census_taken = false;      // it asked for one, and got it
        bool outside = false;                 // no library in the child: no final census
        uint64_t last_exact_ns = 0;           // its last census counted page by page
        CopyEstimator estimator;              // between exact censuses
        // A census too long for one tick is read in slices, one a tick, estimates meanwhile.
        bool slicing = false;
        SlicedCensus sliced;
        uint64_t sliced_cpu_ns = 0;       // the slices' CPU so far
        uint64_t slice_page_wall_ns = 0;  // what a page took in the last slice (wall time)
    };
    struct Output {
        std::vector<std::vector<uint8_t>> records;
        std::vector<std::pair<uint64_t, uint32_t>> acks;
    };

    void post(Job job);
    void run();
    void take_baseline(const Job& job, Output& out);
    void exec_attempt(const Job& job, Output& out);
    // An estimated sample of one episode within budget_ns; false when the child is gone.
    bool estimate(Episode& e, uint64_t t_ns, int64_t budget_ns, Output& out);
    size_t panel_pages() const;
    void final_census(const Job& job, Output& out);
    void tick(const Job& job, Output& out);
    // Samples one episode; false when the child's address space is gone.
    bool sample(Episode& e, uint64_t t_ns, Output& out);
    // Reads the next slice of e's census (starting one if none is under way), and writes the
    // exact sample when it is the last (was_last); false when the child's address space is gone.
    bool sample_slice(Episode& e, uint64_t t_ns, bool& was_last, Output& out);
    // After an exact census of e: what the next one will cost, and a new panel.
    void census_done(Episode& e, const CensusTotals& totals, uint64_t cpu_ns, uint64_t t_ns,
                     Output& out);
    void write_sample(Episode& e, const CensusTotals& totals, uint64_t t_ns, Output& out);
    void end_episode(pid_t child, wire::EpisodeEndReason reason, uint64_t t_ns, Output& out);
    // Ends an episode whose child can no longer be read: by its exec if it had announced one
    // (at that census's time), else by its exit.
    void end_vanished_episode(pid_t child, uint64_t t_ns, Output& out);
    std::shared_ptr<pagemap::PagemapReader> reader_for(pid_t pid);
    void deliver(Output& out);

    CensusMode mode_;
    AttributionMode attribution_mode_;
    std::unique_ptr<FaultAttributor> attributor_;  // null: copies are not attributed
    std::unique_ptr<MemorySampler> memory_;        // made by start()
    std::string attribution_unavailable_;
    uint64_t interval_ns_;
    double duty_cycle_;
    ZeroPage zero_page_;
    int notify_fd_ = -1;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> urgent_;   // baselines and final censuses, in the order they came
    std::deque<Job> routine_;  // the rest
    Output ready_;             // filled by the worker, drained by collect_results()
    std::atomic<uint64_t> effective_interval_ns_;
    std::atomic<uint64_t> max_interval_ns_;
    bool tick_pending_ = false;  // a tick is queued or running: do not pile them up
    std::thread worker_;
    // The event loop's side of a Batch (census_service.hpp): routine jobs posted meanwhile wait
    // in the queue, in order, for one wake-up when the outermost batch closes.
    int open_batches_ = 0;
    bool wake_deferred_ = false;

    // Worker-only state.
    std::unordered_map<pid_t, Episode> episodes_;
    std::unordered_map<pid_t, std::shared_ptr<pagemap::PagemapReader>> readers_;
    // Children whose final census announced an exec (child → the census's time). The episode
    // stays open until the child's address space is gone: an exec that fails goes on in it.
    std::unordered_map<pid_t, uint64_t> exec_pending_;
    // Children whose exec was announced before their baseline was read (child → when): reading
    // them now could read the next image.
    std::unordered_map<pid_t, uint64_t> exec_before_baseline_;
    uint64_t reported_interval_ns_ = 0;
    // The sampling budget (ns of CPU; may run negative after a costly read).
    uint64_t last_tick_ns_ = 0;
    int64_t credit_ns_ = 0;
    int64_t credit_cap_ns_ = 0;
    int64_t page_read_cost_ns_ = 2000;  // one panel page on both sides, measured as it goes
    std::mt19937_64 rng_{0x636f77747261ull};
};

}  // namespace cowtrace::collector

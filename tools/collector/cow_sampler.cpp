#include "cow_sampler.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "attached_processes.hpp"
#include "core/copy_estimate.hpp"
#include "core/kpageflags.hpp"
#include "record_buffer.hpp"
#include "wire/collector_records.hpp"
#include "wire/field_codec.hpp"

namespace cowtrace::collector {

namespace {

constexpr uint64_t kPageSize = 4096;
// A child that asks for its final census waits for it only when the census costs at most this
// share of the child's life so far (estimated from the CPU the last exact reading of it took);
// otherwise its final figures are its last sample's, and say so.
constexpr double kFinalCensusShare = 0.10;
// Bounds of an estimate's sample: below, the error bound is too loose to be worth a point;
// above, reading costs more than it narrows the bound (it shrinks as the square root).
constexpr size_t kMinEstimatePages = 256;
// A slice of a census reads at least this many pages a side (a few ms): fewer would spend the
// tick on system calls.
constexpr uint64_t kMinSlicePages = 4096;
constexpr size_t kMaxPanelPages = 8192;
// Copies made before the baseline was read are attributed by place (the child's stack, TLS and
// loaded objects' data to it) only if it was read this soon after the fork; a quiet collector
// reads a child within about a millisecond.
constexpr uint64_t kPlaceAttributionWindowNs = 10'000'000;

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
constexpr uint32_t kAckDone = wire::CensusAck::kDone;
constexpr uint32_t kAckSkipped = wire::CensusAck::kSkipped;

// CPU time of the calling thread: the duty cycle is a share of a core, and on a busy machine
// wall time would count the time we wait for one.
uint64_t thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Figures read with the parent gone stand only while the child runs on (orphaned, its pages now
// retained). An exited child's address space outlives it while anyone else holds it (our own
// memory thread's smaps_rollup walk): read then, after its parent had reaped it and exited, it
// is the only mapper of every page, and every page would count as retained.
bool stands(const CensusTotals& totals, pid_t child) {
    if (!totals.parent_gone) return true;
    std::optional<ProcessStat> stat = read_process_stat(child);
    return stat && stat->state != 'Z' && stat->state != 'X';
}

// A census's figures, in bytes, as the wire carries them.
wire::EpisodeSample sample_of(const CensusTotals& totals) {
    wire::EpisodeSample sample;
    sample.shared_bytes = totals.shared_pages * kPageSize;
    sample.copied_bytes = totals.copied_pages * kPageSize;
    sample.copied_by_parent_bytes = totals.copied_by_parent_pages * kPageSize;
    sample.copied_by_child_bytes = totals.copied_by_child_pages * kPageSize;
    sample.retained_bytes = totals.retained_pages * kPageSize;
    sample.child_new_bytes = totals.child_new_pages * kPageSize;
    sample.census_cost_ns = totals.cost_ns;
    return sample;
}

// The region list of an episode's figures, as the wire carries it (names borrowed from regions).
std::vector<wire::RegionFigures> region_figures(const std::vector<RegionTotals>& regions,
                                                const std::vector<size_t>& which) {
    std::vector<wire::RegionFigures> out;
    for (size_t i : which) {
        const RegionTotals& r = regions[i];
        wire::RegionFigures f;
        f.name = r.name;
        f.shared_bytes_at_fork = r.shared_at_fork_pages * kPageSize;
        f.copied_bytes = r.copied_pages * kPageSize;
        f.copied_by_parent_bytes = r.copied_by_parent_pages * kPageSize;
        f.copied_by_child_bytes = r.copied_by_child_pages * kPageSize;
        out.push_back(f);
    }
    return out;
}

std::vector<uint8_t> encode_regions(const std::vector<RegionTotals>& regions,
                                    const std::vector<size_t>& which, pid_t child, uint64_t t_ns) {
    std::vector<wire::RegionFigures> figures = region_figures(regions, which);
    wire::EpisodeRegions record;
    record.regions = {figures.data(), figures.size()};
    return encode_record_buffer(record, child, t_ns,
                                1024 + which.size() * (wire::kMaxPathInRecord + 64));
}

}  // namespace

CowSampler::CowSampler(TraceWriter& trace, Ack ack, CensusMode mode, uint64_t interval_ns,
                       double duty_cycle, AttributionMode attribution)
    : CensusService(trace, std::move(ack)),
      mode_(mode),
      attribution_mode_(attribution),
      interval_ns_(interval_ns),
      duty_cycle_(duty_cycle),
      effective_interval_ns_(interval_ns),
      max_interval_ns_(interval_ns) {
    if (mode_ == CensusMode::kExact) zero_page_ = learn_zero_page();
    notify_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    // Up to 20 intervals' worth of budget may be saved for one exact census (more once larger
    // ones are seen). It is saved only while episodes are open, from nothing: credit saved
    // between forks would all be spent at the next one, while its parent is at its busiest.
    credit_cap_ns_ = static_cast<int64_t>(20 * duty_cycle_ * static_cast<double>(interval_ns_));
    credit_ns_ = 0;
}

CowSampler::~CowSampler() {
    if (worker_.joinable()) {
        post(Job{Job::Kind::kFinish});
        worker_.join();
    }
    memory_.reset();
    attributor_.reset();
    if (notify_fd_ >= 0) close(notify_fd_);
}

void CowSampler::start() {
    if (worker_.joinable()) return;
    if (attribution_mode_ != AttributionMode::kOff) {
        // Its records join the census's, in the order the event loop collects them.
        attributor_ = std::make_unique<FaultAttributor>(
            attribution_mode_, [this](std::vector<std::vector<uint8_t>> records) {
                Output out;
                out.records = std::move(records);
                deliver(out);
            });
        if (!attributor_->start(attribution_unavailable_)) attributor_.reset();
    }
    // A quarter of the share funds memory samples, on their own thread.
    memory_ = std::make_unique<MemorySampler>(duty_cycle_ / 4, interval_ns_,
                                              [this](std::vector<std::vector<uint8_t>> records) {
                                                  Output out;
                                                  out.records = std::move(records);
                                                  deliver(out);
                                              });
    memory_->start();
    worker_ = std::thread([this] { run(); });
    // Named, so that `top -H` and the benchmarks tell the collector's threads apart.
    pthread_setname_np(worker_.native_handle(), "cowtrace-census");
}

std::string CowSampler::mode_name() const {
    return mode_ == CensusMode::kExact ? "exact" : "unprivileged";
}

void CowSampler::post(Job job) {
    // A baseline read late costs attribution, a final census keeps a child waiting: both go
    // before periodic work, in the order they came (a child's baseline before its final).
    bool urgent = job.kind == Job::Kind::kBaseline || job.kind == Job::Kind::kFinal ||
                  job.kind == Job::Kind::kExecAttempt;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto at = urgent ? urgent_.end() : routine_.end();
        if (job.kind == Job::Kind::kExecAttempt) {
            // The child's baseline still waits (their records came in one batch, as a shell's
            // child's do on a busy machine): read now, it could only be of the next image and
            // would end short-lived. The exec goes first and makes the baseline a no-op.
            at = std::find_if(urgent_.begin(), urgent_.end(), [&job](const Job& queued) {
                return queued.kind == Job::Kind::kBaseline && queued.child == job.child;
            });
        }
        (urgent ? urgent_ : routine_).insert(at, std::move(job));
    }
    // Routine work (a process gone, an exec failed: a record each) waits for the batch's end to
    // wake the thread; urgent work wakes it at once, as the loop may be preempted before the
    // batch ends while a child writes on (its baseline) or waits (its final census). The
    // thread empties both queues before it sleeps: one wake-up serves all queued so far.
    if (open_batches_ > 0 && !urgent) {
        wake_deferred_ = true;
    } else {
        wake_deferred_ = false;
        wake_.notify_one();
    }
}

void CowSampler::close_batch() {
    if (--open_batches_ == 0 && wake_deferred_) {
        wake_deferred_ = false;
        wake_.notify_one();
    }
}

void CowSampler::on_forked_child(const ForkedChild& child) {
    Job job;
    job.kind = Job::Kind::kBaseline;
    job.child = child.child;
    job.parent = child.parent;
    job.t_ns = child.t_ns;
    job.stack_pointer = child.stack_pointer;
    job.thread_pointer = child.thread_pointer;
    job.outside = child.outside;
    job.under_way_at_attach = child.under_way_at_attach;
    job.exec_unannounced = child.under_way_at_attach || child.found_by_polling;
    post(std::move(job));
}

void CowSampler::on_request(const CensusRequest& request) {
    if (request.kind != wire::CensusKind::kFinal) {
        // An older library asking for its baseline: nobody waits for that any more.
        ack_(request.connection_id, kAckSkipped);
        return;
    }
    Job job;
    job.kind = Job::Kind::kFinal;
    job.connection_id = request.connection_id;
    job.child = request.child;
    job.parent = request.parent;
    job.reason = request.reason;
    job.t_ns = request.t_ns;
    post(std::move(job));
}

void CowSampler::on_exec_attempt(pid_t pid, uint64_t t_ns) {
    Job job;
    job.kind = Job::Kind::kExecAttempt;
    job.child = pid;
    job.t_ns = t_ns;
    post(std::move(job));
}

void CowSampler::on_process_gone(pid_t pid, uint64_t t_ns) {
    Job job;
    job.kind = Job::Kind::kGone;
    job.child = pid;
    job.t_ns = t_ns;
    post(std::move(job));
}

void CowSampler::on_exec_failed(pid_t pid) {
    Job job;
    job.kind = Job::Kind::kExecFailed;
    job.child = pid;
    post(std::move(job));
}

uint64_t CowSampler::on_timer(uint64_t now, const std::vector<pid_t>& live) {
    if (memory_) memory_->on_tick(now, live);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (tick_pending_) return effective_interval_ns_.load();
        tick_pending_ = true;
    }
    Job job;
    job.kind = Job::Kind::kTick;
    job.t_ns = now;
    job.live = live;
    post(std::move(job));
    return effective_interval_ns_.load();
}

void CowSampler::collect_results() {
    uint64_t ignored;
    ssize_t n = read(notify_fd_, &ignored, sizeof ignored);
    (void)n;
    Output out;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        std::swap(out, ready_);
    }
    for (const auto& rec : out.records) trace_.append(rec.data(), rec.size());
    for (const auto& [id, status] : out.acks) ack_(id, status);
}

void CowSampler::finish(uint64_t t_ns) {
    if (worker_.joinable()) {
        Job job;
        job.kind = Job::Kind::kFinish;
        job.t_ns = t_ns;
        post(std::move(job));
        worker_.join();
    }
    if (memory_) memory_->finish();
    collect_results();
}

void CowSampler::deliver(Output& out) {
    if (out.records.empty() && out.acks.empty()) return;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& r : out.records) ready_.records.push_back(std::move(r));
        for (auto& a : out.acks) ready_.acks.push_back(a);
    }
    out = Output{};
    uint64_t one = 1;
    ssize_t n = write(notify_fd_, &one, sizeof one);
    (void)n;
}

void CowSampler::run() {
    for (;;) {
        Job job;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [this] { return !urgent_.empty() || !routine_.empty(); });
            std::deque<Job>& queue = !urgent_.empty() ? urgent_ : routine_;
            job = std::move(queue.front());
            queue.pop_front();
        }
        Output out;
        switch (job.kind) {
            case Job::Kind::kBaseline:
                take_baseline(job, out);
                break;
            case Job::Kind::kFinal:
                final_census(job, out);
                break;
            case Job::Kind::kExecAttempt:
                exec_attempt(job, out);
                break;
            case Job::Kind::kGone:
                if (episodes_.count(job.child)) end_vanished_episode(job.child, job.t_ns, out);
                readers_.erase(job.child);
                exec_before_baseline_.erase(job.child);
                break;
            case Job::Kind::kExecFailed:
                exec_pending_.erase(job.child);
                exec_before_baseline_.erase(job.child);
                if (auto it = episodes_.find(job.child); it != episodes_.end()) {
                    // The episode goes on: what was decided before the exec was not its end.
                    it->second.final_census_taken = false;
                    it->second.final_from_last_sample = false;
                }
                break;
            case Job::Kind::kTick:
                // A tick that waited behind a baseline or a final census (a 16 GiB child's
                // takes about 0.3 s) reads its figures now, and is stamped so.
                job.t_ns = std::max(job.t_ns, monotonic_ns());
                tick(job, out);
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    tick_pending_ = false;
                }
                break;
            case Job::Kind::kFinish: {
                std::vector<pid_t> open;
                for (const auto& [child, e] : episodes_) open.push_back(child);
                for (pid_t child : open) {
                    if (sample(episodes_[child], job.t_ns, out)) {
                        end_episode(child, wire::EpisodeEndReason::kRunning, job.t_ns, out);
                    } else {
                        end_vanished_episode(child, job.t_ns, out);
                    }
                }
                deliver(out);
                if (attributor_) attributor_->finish();
                return;
            }
        }
        deliver(out);
    }
}

std::shared_ptr<pagemap::PagemapReader> CowSampler::reader_for(pid_t pid) {
    // A reader is bound to the address space it was opened on, not to the pid: once the process
    // has exec'd (a wrapper that forked a helper, then exec'd the server) the cached one reads
    // nothing, and a fork of the new image would find its parent "gone".
    auto it = readers_.find(pid);
    if (it != readers_.end() && it->second->address_space_alive()) return it->second;
    auto r = std::make_shared<pagemap::PagemapReader>();
    std::string error;
    if (!r->open(pid, error)) return nullptr;
    readers_[pid] = r;
    return r;
}

void CowSampler::take_baseline(const Job& job, Output& out) {
    // A pid seen again is a new process: forget the old one's reader (and episode).
    if (episodes_.count(job.child)) end_vanished_episode(job.child, job.t_ns, out);
    readers_.erase(job.child);
    // The child announced an exec before we got to it: what we would read may be its next
    // image. It is a short-lived child, not measured (the model says so).
    if (auto exec = exec_before_baseline_.find(job.child); exec != exec_before_baseline_.end()) {
        if (attributor_) attributor_->child_ended_unread(job.parent, job.t_ns, exec->second);
        exec_before_baseline_.erase(exec);
        return;
    }
    uint64_t t_open = monotonic_ns();
    auto child_pm = reader_for(job.child);
    auto parent_pm = job.parent > 0 ? reader_for(job.parent) : nullptr;
    if (!child_pm || !parent_pm) {  // gone already: short-lived, however late this is
        if (attributor_ && !child_pm)
            attributor_->child_ended_unread(job.parent, job.t_ns, job.t_ns);
        return;
    }
    Episode e;
    e.parent = job.parent;
    e.child = job.child;
    e.child_pm = child_pm;
    e.parent_pm = parent_pm;
    e.fork_t_ns = job.t_ns;
    e.outside = job.outside;
    e.baseline_t_ns = t_open;
    std::string error;
    // The child runs on while it is read: a page it copied before the read shows two frames
    // already, and is attributed by place (its stack, TLS and loaded objects' data).
    ChildWriteHints hints{job.stack_pointer, job.thread_pointer};
    // The place says who copied only for what a child writes on its way out of fork(): read
    // later (a busy collector), the child may have been at its own work meanwhile (a static
    // test program writing half its memory, a Python worker's reference counts).
    bool read_late = t_open > job.t_ns + kPlaceAttributionWindowNs;
    if (job.under_way_at_attach || read_late) e.baseline.copies_before_baseline_side_unknown();
    // Faults are sampled from before the baseline is read: the child runs on meanwhile.
    if (attributor_) attributor_->episode_started(job.parent, job.child, job.t_ns);
    uint64_t cpu_before = thread_cpu_ns();
    if (!e.baseline.take(job.child, *child_pm, mode_, zero_page_.pfn, hints, error)) {
        if (attributor_) attributor_->episode_cancelled(job.child);
        return;
    }
    e.baseline.add_parent(*parent_pm);
    e.census_cpu_ns = thread_cpu_ns() - cpu_before;
    // Known from outside, the child may have exec'd before its memory was opened (no exec
    // event precedes a fork found by polling /proc, or under way at the attach): then what was
    // read is its next image, not a copy.
    if (job.exec_unannounced && !still_a_fork_copy(job.child, job.parent)) {
        if (attributor_) attributor_->episode_cancelled(job.child);
        return;
    }
    if (attributor_) attributor_->fork_pages_known(job.child, e.baseline.shareable_page_runs());
    // Credit may be saved up for this episode's exact censuses, which cost about as much. The
    // baseline is paid from the same credit: it is the episode's first exact reading, and the
    // next one can wait until the duty cycle has earned it.
    credit_cap_ns_ = std::max(credit_cap_ns_, 2 * static_cast<int64_t>(e.census_cpu_ns));
    credit_ns_ -= static_cast<int64_t>(thread_cpu_ns() - cpu_before);
    // A fork does not carry the KSM counters over: the parent's say whether KSM is at work.
    bool ksm = kpageflags::ksm_merging_pages(job.parent) > 0;
    if (ksm) e.baseline.count_ksm_frames();

    std::vector<std::string> approximations;
    if (job.under_way_at_attach) {
        approximations.push_back(
            "under way when cowtrace attached: its memory was first read at the attach, which "
            "stands for the fork's; copies made before count with no side, and pages shared at "
            "the fork but unmapped before the attach are not counted");
    } else if (mode_ == CensusMode::kExact && read_late) {
        approximations.push_back("the collector read the child's memory only " +
                                 std::to_string((t_open - job.t_ns) / 1000000) +
                                 " ms after the fork: copies made before then count with no side");
    } else if (mode_ == CensusMode::kExact) {
        approximations.push_back(
            "copies made between the fork and the moment the collector read the child's memory are "
            "attributed by place: the child's stack, TLS and libraries' data to the child, the "
            "rest to the parent");
    } else {
        approximations.push_back(
            "unprivileged mode: a copy is known from the exclusive bit, not who made it "
            "(run as root for the parent/child split)");
        if (e.baseline.thp_pages_at_fork() > 0) {
            approximations.push_back(
                "transparent huge pages: since Linux 6.15 the kernel judges a PMD-mapped huge "
                "page's exclusivity by its first page, so copies there are approximate");
        }
    }
    if (mode_ == CensusMode::kUnprivileged && ksm) {
        approximations.push_back(
            "KSM merges pages of this process: merged pages look shared whatever fork did, and "
            "only root can tell them apart");
    }
    if (zero_page_.pfn == 0 && !zero_page_.kernel_has_none && mode_ == CensusMode::kExact) {
        approximations.push_back("the zero page could not be identified: it counts as shared");
    }
    const EpisodeBaseline& b = e.baseline;
    std::vector<const char*> approximation_list;
    for (auto& a : approximations) approximation_list.push_back(a.c_str());
    approximation_list.push_back(nullptr);
    std::string mode = mode_name();
    wire::EpisodeStart start;
    start.parent = job.parent;
    start.fork_t_ns = job.t_ns;
    start.mode = mode;
    start.split_known = mode_ == CensusMode::kExact;
    start.shared_bytes = b.shared_pages_at_fork() * kPageSize;
    start.zero_page_bytes = b.zero_pages_at_fork() * kPageSize;
    start.thp_bytes = b.thp_pages_at_fork() * kPageSize;
    start.ksm_bytes = b.ksm_pages_at_fork() * kPageSize;
    start.approximations = wire::TextList::of_array(approximation_list.data());
    start.baseline_t_ns = t_open;
    start.under_way_at_attach = job.under_way_at_attach;
    out.records.push_back(encode_record_buffer(start, job.child, job.t_ns, 64 * 1024));
    // Regions as they were at fork; copies are written as they happen.
    e.last_regions.resize(b.region_names().size());
    std::vector<size_t> listed;
    for (size_t i = 0; i < b.region_names().size(); ++i) {
        e.last_regions[i].name = b.region_names()[i];
        e.last_regions[i].shared_at_fork_pages = b.region_shared_pages()[i];
        if (b.region_shared_pages()[i] > 0) listed.push_back(i);
    }
    out.records.push_back(encode_regions(e.last_regions, listed, job.child, job.t_ns));
    // Until its first exact census, an episode's estimates sample every fork-time page.
    CensusTotals at_fork;
    at_fork.regions = e.last_regions;
    e.estimator.draw_panel(e.baseline, at_fork, panel_pages(), rng_);
    episodes_[job.child] = std::move(e);
}

bool CowSampler::sample(Episode& e, uint64_t t_ns, Output& out) {
    CensusTotals totals;
    e.slicing = false;  // this census stands for a sliced one under way
    uint64_t cpu_before = thread_cpu_ns();
    if (!e.baseline.census(e.child, *e.child_pm, *e.parent_pm, totals)) return false;
    if (!stands(totals, e.child)) return false;
    census_done(e, totals, thread_cpu_ns() - cpu_before, t_ns, out);
    return true;
}

bool CowSampler::sample_slice(Episode& e, uint64_t t_ns, bool& was_last, Output& out) {
    if (!e.slicing) {
        e.slicing = true;
        e.sliced = SlicedCensus{};
        e.sliced_cpu_ns = 0;
    }
    // Half a tick's wall time a slice, at the pace of the last slice (of the last census at
    // first): the estimates of every episode and the other jobs (baselines, final censuses)
    // wait at most that long. Wall time, not CPU: on a loaded machine a slice's CPU is spread
    // over more of the clock, and the interval is a promise about the clock.
    uint64_t per_page_ns = e.slice_page_wall_ns;
    if (per_page_ns == 0) {
        per_page_ns = e.census_cpu_ns / std::max<uint64_t>(e.baseline.pages_tracked(), 1);
    }
    uint64_t slice_pages =
        std::max<uint64_t>(interval_ns_ / 2 / std::max<uint64_t>(per_page_ns, 1), kMinSlicePages);
    uint64_t cpu_before = thread_cpu_ns();
    uint64_t wall_before = monotonic_ns();
    uint64_t pages_before = e.sliced.pages_read;
    SliceOutcome outcome =
        e.baseline.census_slice(e.child, *e.child_pm, *e.parent_pm, e.sliced, slice_pages);
    e.sliced_cpu_ns += thread_cpu_ns() - cpu_before;
    if (e.sliced.pages_read > pages_before) {
        e.slice_page_wall_ns =
            (monotonic_ns() - wall_before) / (e.sliced.pages_read - pages_before);
    }
    if (outcome == SliceOutcome::kChildGone ||
        (outcome == SliceOutcome::kDone && !stands(e.sliced.totals, e.child))) {
        e.slicing = false;
        return false;
    }
    if (outcome == SliceOutcome::kDone) {
        e.slicing = false;
        was_last = true;
        census_done(e, e.sliced.totals, e.sliced_cpu_ns, t_ns, out);
    }
    return true;
}

void CowSampler::census_done(Episode& e, const CensusTotals& totals, uint64_t cpu_ns, uint64_t t_ns,
                             Output& out) {
    e.census_cpu_ns = cpu_ns;
    e.last_exact_ns = t_ns;
    credit_cap_ns_ = std::max(credit_cap_ns_, 2 * static_cast<int64_t>(e.census_cpu_ns));
    write_sample(e, totals, t_ns, out);
    // The next estimates sample what is still shared now.
    e.estimator.draw_panel(e.baseline, totals, panel_pages(), rng_);
}

size_t CowSampler::panel_pages() const {
    // As many as an estimate's budget reads (half of three quarters of a tick's share), within
    // bounds: the error shrinks as √n.
    auto budget = static_cast<int64_t>(duty_cycle_ * 0.75 * static_cast<double>(interval_ns_) / 2);
    auto pages = static_cast<size_t>(budget / std::max<int64_t>(page_read_cost_ns_, 1));
    return std::clamp<size_t>(pages, kMinEstimatePages, kMaxPanelPages);
}

void CowSampler::exec_attempt(const Job& job, Output& out) {
    auto it = episodes_.find(job.child);
    if (it == episodes_.end()) {
        exec_before_baseline_[job.child] = job.t_ns;  // its baseline job is still to come
        return;
    }
    // Read after the child began to exec: that may have been its next image.
    if (it->second.baseline_t_ns > job.t_ns) {
        end_episode(job.child, wire::EpisodeEndReason::kShortLived, job.t_ns, out);
        return;
    }
    // It ends by this exec once its address space is gone, unless the exec fails (a final
    // census, if it asks for one, dates the end later).
    exec_pending_.emplace(job.child, job.t_ns);
}

void CowSampler::write_sample(Episode& e, const CensusTotals& totals, uint64_t t_ns, Output& out) {
    out.records.push_back(encode_record_buffer(sample_of(totals), e.child, t_ns, 256));
    std::vector<size_t> changed;
    for (size_t i = 0; i < totals.regions.size() && i < e.last_regions.size(); ++i) {
        const RegionTotals& now = totals.regions[i];
        const RegionTotals& before = e.last_regions[i];
        if (now.copied_pages != before.copied_pages ||
            now.copied_by_parent_pages != before.copied_by_parent_pages ||
            now.copied_by_child_pages != before.copied_by_child_pages) {
            changed.push_back(i);
        }
    }
    if (!changed.empty()) {
        out.records.push_back(encode_regions(totals.regions, changed, e.child, t_ns));
        for (size_t i : changed) e.last_regions[i] = totals.regions[i];
    }
}

void CowSampler::final_census(const Job& job, Output& out) {
    auto it = episodes_.find(job.child);
    if (it == episodes_.end()) {
        out.acks.emplace_back(job.connection_id, kAckSkipped);
        return;
    }
    Episode& e = it->second;
    // The child goes on (to exit or exec) only after this answer. Both sides are read first:
    // a parent that only waits for this child may exit the moment the child does. Unless that
    // would keep the child waiting too long a share of its life: then its last sample stands.
    uint64_t life = job.t_ns > e.fork_t_ns ? job.t_ns - e.fork_t_ns : 0;
    bool worth_it =
        static_cast<double>(e.census_cpu_ns) <= kFinalCensusShare * static_cast<double>(life);
    bool ok = worth_it && sample(e, job.t_ns, out);
    // The latest request decides: a child whose exec failed asks again before its real end.
    e.final_census_taken = ok;
    e.final_from_last_sample = !ok;
    if (ok) {
        // A child's memory is at its largest as it ends, and the parent's with it: both are read
        // now, so that the tree's PSS peak does not depend on where the round-robin stood. They
        // are paid from the memory samples' credit (the round-robin waits).
        uint64_t before = thread_cpu_ns();
        for (pid_t pid : {e.child, e.parent}) {
            std::vector<uint8_t> record = memory_sample_record(pid, job.t_ns);
            if (!record.empty()) out.records.push_back(std::move(record));
        }
        if (memory_) memory_->charge(thread_cpu_ns() - before);
    }
    Output ack;
    ack.acks.emplace_back(job.connection_id, ok ? kAckDone : kAckSkipped);
    deliver(ack);
    if ((ok || !worth_it) && job.reason == wire::EpisodeEndReason::kExec) {
        // The exec may fail, and the child go on writing in this episode: it ends when the
        // child's address space is gone (a tick or its end finds it so).
        exec_pending_[job.child] = job.t_ns;
        return;
    }
    end_episode(job.child, job.reason, job.t_ns, out);
}

void CowSampler::end_vanished_episode(pid_t child, uint64_t t_ns, Output& out) {
    // It ended with no final census (killed, as a pool's workers are at its end; observed from
    // outside; an exec announced before it could ask): its final figures are its last sample's,
    // taken up to an interval before its end, and say so.
    auto episode = episodes_.find(child);
    if (episode != episodes_.end() && !episode->second.final_census_taken)
        episode->second.final_from_last_sample = true;
    auto exec = exec_pending_.find(child);
    if (exec != exec_pending_.end()) {
        end_episode(child, wire::EpisodeEndReason::kExec, exec->second, out);
    } else {
        end_episode(child, wire::EpisodeEndReason::kExit, t_ns, out);
    }
}

void CowSampler::end_episode(pid_t child, wire::EpisodeEndReason reason, uint64_t t_ns,
                             Output& out) {
    wire::EpisodeEnd end;
    end.reason = reason;
    auto it = episodes_.find(child);
    end.final_from_last_sample = it != episodes_.end() && it->second.final_from_last_sample;
    out.records.push_back(encode_record_buffer(end, child, t_ns, 64));
    episodes_.erase(child);
    exec_pending_.erase(child);
    if (attributor_) attributor_->episode_ended(child, t_ns);
}

void CowSampler::tick(const Job& job, Output& out) {
    // The budget: duty_cycle of a core since the last tick, less the quarter that funds memory
    // samples (MemorySampler): estimates take at most half of a tick's census share, and what they
    // leave accumulates (up to a cap) for exact censuses, so that a large episode is counted
    // page by page every so often and estimated in between.
    uint64_t elapsed = last_tick_ns_ ? job.t_ns - last_tick_ns_ : interval_ns_;
    last_tick_ns_ = job.t_ns;
    auto share = static_cast<int64_t>(duty_cycle_ * static_cast<double>(elapsed));
    int64_t census_share = share - share / 4;
    if (!episodes_.empty()) credit_ns_ = std::min(credit_ns_ + census_share, credit_cap_ns_);
    // Episodes measured longest ago first: they get the exact census when credit allows.
    std::vector<pid_t> order;
    for (const auto& [child, e] : episodes_) order.push_back(child);
    std::sort(order.begin(), order.end(), [this](pid_t a, pid_t b) {
        return episodes_[a].last_exact_ns < episodes_[b].last_exact_ns;
    });
    size_t estimates = 0;
    for (pid_t child : order) estimates += episodes_[child].census_cpu_ns > 0 ? 1 : 0;
    std::vector<pid_t> ended;
    uint64_t estimate_cost = 0;
    // Estimates take at most half a tick's share: the rest is saved for exact censuses.
    int64_t estimate_budget =
        census_share / 2 / static_cast<int64_t>(std::max<size_t>(estimates, 1));
    for (pid_t child : order) {
        Episode& e = episodes_[child];
        uint64_t before = thread_cpu_ns();
        bool alive;
        // A census that takes more than half a tick is read in slices, one a tick (it begins
        // when the credit covers the whole, and each slice is charged as it is read), and the
        // episode's estimate is still written at every tick meanwhile: its timeline keeps the
        // interval.
        bool sliced = e.slicing || e.census_cpu_ns > interval_ns_ / 2;
        bool exact = e.slicing || static_cast<int64_t>(e.census_cpu_ns) <= credit_ns_;
        if (exact && sliced) {
            bool was_last = false;
            alive = sample_slice(e, job.t_ns, was_last, out);
            if (alive && !was_last && e.estimator.has_panel()) {
                uint64_t estimate_before = thread_cpu_ns();
                alive = estimate(e, job.t_ns, estimate_budget, out);
                estimate_cost += thread_cpu_ns() - estimate_before;
            }
        } else if (exact) {
            alive = sample(e, job.t_ns, out);
        } else if (e.estimator.has_panel()) {
            alive = estimate(e, job.t_ns, estimate_budget, out);
        } else {
            // Nothing was shared any more at the last census (its parent is gone, say): nothing
            // can be copied, and the figures wait for an exact census the credit affords.
            alive = e.child_pm->address_space_alive();
        }
        uint64_t cost = thread_cpu_ns() - before;
        credit_ns_ -= static_cast<int64_t>(cost);
        if (!exact) estimate_cost += cost;  // (a sliced census's estimate is counted above)
        if (!alive) {
            ended.push_back(child);
        } else if (auto exec = exec_pending_.find(child); exec != exec_pending_.end()) {
            exec->second = job.t_ns;  // not exec'd yet: the episode lasts at least this long
        }
    }
    // A child whose address space vanished: after the exec it announced, or without a final
    // census (killed, or a raw exec).
    for (pid_t child : ended) end_vanished_episode(child, job.t_ns, out);
    // Estimates keep the interval at any size: they are budgeted half of a tick's census share
    // (the other half is saved for exact censuses), may overdraw it (the smallest panel read
    // costs what it costs: exact censuses then wait), and only when they need more than the
    // whole share (very many episodes at once, a very short --interval) does the interval
    // stretch, so that sampling stays within its share of a core. Round by round: each pays for
    // its own interval (a cheap round after a costly one brings the interval back), so the
    // share holds over any run of ticks.
    uint64_t needed =
        static_cast<uint64_t>(static_cast<double>(estimate_cost) / (duty_cycle_ * 0.75));
    uint64_t interval = std::max(interval_ns_, needed);
    effective_interval_ns_.store(interval);
    if (interval > max_interval_ns_.load()) max_interval_ns_.store(interval);
    if (interval > reported_interval_ns_ * 11 / 10 && interval > interval_ns_) {
        reported_interval_ns_ = interval;
        std::string text = "sampling interval stretched to " + std::to_string(interval / 1000000) +
                           " ms: one round of estimates took " +
                           std::to_string(estimate_cost / 1000) + " us";
        wire::CollectorNote note;
        note.severity = wire::NoteSeverity::kNotice;
        note.code = wire::NoteCode::kIntervalStretched;
        note.text = text;
        out.records.push_back(encode_record_buffer(note, 0, job.t_ns, 512));
    }
}

bool CowSampler::estimate(Episode& e, uint64_t t_ns, int64_t budget_ns, Output& out) {
    size_t pages = budget_ns > 0
                       ? static_cast<size_t>(budget_ns / std::max<int64_t>(page_read_cost_ns_, 1))
                       : 0;
    pages = std::clamp<size_t>(pages, kMinEstimatePages, e.estimator.panel_size());
    CopyEstimate estimate;
    if (!e.estimator.estimate(e.baseline, *e.child_pm, *e.parent_pm, pages, estimate)) return false;
    if (!stands(estimate.totals, e.child)) return false;
    if (estimate.pages_read > 0) {
        // What one panel page costs (both sides), smoothed: it sizes the next reads.
        auto per_page = static_cast<int64_t>(estimate.cost_ns / estimate.pages_read);
        page_read_cost_ns_ = (3 * page_read_cost_ns_ + per_page) / 4;
    }
    wire::EpisodeSample sample = sample_of(estimate.totals);
    sample.census_cost_ns = estimate.cost_ns;
    sample.estimated = true;
    sample.copied_error_bytes = estimate.copied_error_pages * kPageSize;
    sample.pages_read = estimate.pages_read;
    out.records.push_back(encode_record_buffer(sample, e.child, t_ns, 256));
    return true;
}

}  // namespace cowtrace::collector

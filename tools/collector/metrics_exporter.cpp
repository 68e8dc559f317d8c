#include "metrics_exporter.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "trace/trace_reader.hpp"
#include "wire/collector_records.hpp"
#include "wire/shim_records.hpp"

namespace cowtrace::collector {

namespace {

using prometheus::Histogram;

// Copies worth telling apart: a few pages, a heap, a whole dataset.
const Histogram::BucketBoundaries kCopiedBytesBuckets = {
    64.0 * 1024,      256.0 * 1024,      1024.0 * 1024,    4096.0 * 1024,
    16384.0 * 1024,   65536.0 * 1024,    262144.0 * 1024,  1048576.0 * 1024,
    4194304.0 * 1024, 16777216.0 * 1024, 67108864.0 * 1024};
// Copied / shared at fork.
const Histogram::BucketBoundaries kCopiedRatioBuckets = {0.01, 0.05, 0.1, 0.2, 0.3,
                                                         0.5,  0.75, 0.9, 1.0};

std::string base_name(std::string_view path) {
    size_t slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace

MetricsExporter::MetricsExporter(MetricsOptions options)
    : opt_(std::move(options)), registry_(std::make_shared<prometheus::Registry>()) {
    auto& r = *registry_;
    episodes_total_ = &prometheus::BuildCounter()
                           .Name("cowtrace_fork_episodes_total")
                           .Help(
                               "Fork episodes started (a fork() copy of the program), by the "
                               "program that forked")
                           .Register(r);
    episodes_unmeasured_total_ =
        &prometheus::BuildCounter()
             .Name("cowtrace_fork_episodes_unmeasured_total")
             .Help(
                 "Fork episodes whose child went before its copy-on-write could be measured "
                 "(short-lived): not in the copied-bytes histograms")
             .Register(r);
    copied_bytes_ = &prometheus::BuildHistogram()
                         .Name("cowtrace_fork_copied_bytes")
                         .Help(
                             "Bytes copied on write by each ended fork episode (its peak), by "
                             "the program that forked; _sum is what they copied in all")
                         .Register(r);
    copied_ratio_ = &prometheus::BuildHistogram()
                         .Name("cowtrace_fork_copied_ratio")
                         .Help(
                             "Share of the memory shared at fork that each ended fork episode "
                             "copied (its peak, 0 to 1), by the program that forked")
                         .Register(r);
    live_shared_bytes_ = &prometheus::BuildGauge()
                              .Name("cowtrace_fork_episode_shared_bytes")
                              .Help("Bytes a live fork episode's parent and child still share")
                              .Register(r);
    live_copied_bytes_ = &prometheus::BuildGauge()
                              .Name("cowtrace_fork_episode_copied_bytes")
                              .Help("Bytes a live fork episode has copied on write so far")
                              .Register(r);
    census_lost_total_ = &prometheus::BuildCounter()
                              .Name("cowtrace_census_samples_lost_total")
                              .Help(
                                  "Copy-on-write measurements not taken: a fork child gone "
                                  "before it was measured, or a final census skipped (the "
                                  "last sample stands)")
                              .Register(r);
    records_lost_total_ = &prometheus::BuildCounter()
                               .Name("cowtrace_records_lost_total")
                               .Help(
                                   "Records lost, by where: rejected by the collector, "
                                   "dropped by the library, kernel events")
                               .Register(r);
    tree_pss_bytes_ = &prometheus::BuildGauge()
                           .Name("cowtrace_tree_pss_bytes")
                           .Help(
                               "Proportional set size of every traced process, summed (each "
                               "one's latest sample)")
                           .Register(r)
                           .Add({});
    live_episodes_ = &prometheus::BuildGauge()
                          .Name("cowtrace_fork_episodes_live")
                          .Help("Fork episodes in progress")
                          .Register(r)
                          .Add({});
    processes_ = &prometheus::BuildGauge()
                      .Name("cowtrace_processes")
                      .Help("Traced processes alive")
                      .Register(r)
                      .Add({});
    processes_started_total_ = &prometheus::BuildCounter()
                                    .Name("cowtrace_processes_started_total")
                                    .Help("Traced processes seen to start")
                                    .Register(r)
                                    .Add({});
    processes_ended_total_ = &prometheus::BuildCounter()
                                  .Name("cowtrace_processes_ended_total")
                                  .Help("Traced processes seen to end")
                                  .Register(r)
                                  .Add({});
    trace_bytes_lost_total_ = &prometheus::BuildCounter()
                                   .Name("cowtrace_trace_bytes_lost_total")
                                   .Help(
                                       "Bytes of records the trace file could not take (disk "
                                       "full)")
                                   .Register(r)
                                   .Add({});
    library_records_total_ = &prometheus::BuildCounter()
                                  .Name("cowtrace_library_records_total")
                                  .Help("Records received from libcowtrace.so")
                                  .Register(r)
                                  .Add({});
    longest_interval_seconds_ =
        &prometheus::BuildGauge()
             .Name("cowtrace_sampling_interval_longest_seconds")
             .Help(
                 "The longest copy-on-write sampling interval used (it stretches to keep "
                 "sampling within its share of a core)")
             .Register(r)
             .Add({});
}

MetricsExporter::~MetricsExporter() = default;

bool MetricsExporter::start(std::string& error) {
    if (!opt_.listen.empty()) {
        // The exposer's threads inherit this thread's signal mask: with every signal blocked
        // they never take the collector's SIGTERM (which its signalfd reads), whenever the
        // session blocks them itself.
        sigset_t all, before;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &before);
        try {
            exposer_ = std::make_unique<prometheus::Exposer>(opt_.listen, 2);
        } catch (const std::exception& e) {
            error = "cannot serve metrics on " + opt_.listen + ": " + e.what();
        }
        pthread_sigmask(SIG_SETMASK, &before, nullptr);
        if (!exposer_) return false;
        exposer_->RegisterCollectable(registry_);
    }
    return opt_.file.empty() || write_file(error);
}

std::string MetricsExporter::listening_on() const {
    if (!exposer_) return "";
    std::string out;
    for (int port : exposer_->GetListeningPorts()) {
        if (!out.empty()) out += ',';
        out += std::to_string(port);
    }
    return out;
}

const std::string& MetricsExporter::program_label(const std::string& name) {
    auto it = programs_.find(name);
    if (it != programs_.end()) return it->second;
    static const std::string kOther = "other";
    if (programs_.size() >= kMaxPrograms) return kOther;
    return programs_.emplace(name, name).first->second;
}

std::string MetricsExporter::program_of(pid_t pid) const {
    auto it = program_of_.find(pid);
    return it != program_of_.end() ? it->second : "?";
}

void MetricsExporter::on_record(const uint8_t* bytes, size_t size) {
    RawRecord rec;
    if (size < sizeof rec.header) return;
    memcpy(&rec.header, bytes, sizeof rec.header);
    if (rec.header.size != size) return;
    rec.payload = std::span<const uint8_t>(bytes + sizeof rec.header, size - sizeof rec.header);
    pid_t pid = rec.header.pid;
    switch (static_cast<wire::RecordType>(rec.header.type)) {
        case wire::RecordType::kHello: {
            wire::Hello hello;
            if (!decode(rec, hello)) return;
            std::string_view path = hello.execfn.view();
            std::string first_arg;
            if (path.empty()) {
                hello.argv.for_each([&](std::string_view a) {
                    if (first_arg.empty()) first_arg = a;
                });
                path = first_arg;
            }
            if (!path.empty()) program_of_[pid] = program_label(base_name(path));
            break;
        }
        case wire::RecordType::kChildStart: {
            wire::ChildStart start;
            if (!decode(rec, start) || (rec.header.flags & wire::kFromVforkChild)) return;
            // A copy of its creator runs its creator's program until it execs.
            auto parent = program_of_.find(start.parent);
            if (parent != program_of_.end()) program_of_[pid] = parent->second;
            break;
        }
        case wire::RecordType::kEpisodeStart: {
            wire::EpisodeStart start;
            if (decode(rec, start)) episode_started(pid, start.parent, start.shared_bytes);
            break;
        }
        case wire::RecordType::kEpisodeSample: {
            wire::EpisodeSample sample;
            if (decode(rec, sample)) {
                episode_sampled(pid, sample.shared_bytes, sample.copied_bytes, !sample.estimated);
            }
            break;
        }
        case wire::RecordType::kEpisodeEnd: {
            wire::EpisodeEnd end;
            if (!decode(rec, end)) return;
            // A trace that ends (or rotates) with the episode open says so; it goes on.
            if (end.reason == wire::EpisodeEndReason::kRunning) return;
            episode_ended(pid, end.reason, end.final_from_last_sample);
            break;
        }
        case wire::RecordType::kMemorySample: {
            wire::MemorySample sample;
            if (decode(rec, sample)) memory_sampled(pid, sample.pss_bytes);
            break;
        }
        default:
            break;
    }
}

void MetricsExporter::episode_started(pid_t child, pid_t parent, uint64_t shared_bytes) {
    // Already live: a rotated trace file began with its start again (trace_rotation.hpp).
    if (episodes_.count(child)) return;
    std::string program = program_of_.count(parent) ? program_of(parent) : program_of(child);
    episodes_total_->Add({{"program", program}}).Increment();
    LiveEpisode e;
    e.program = program;
    e.parent = parent;
    e.shared_bytes = shared_bytes;
    prometheus::Labels labels{{"program", program}, {"pid", std::to_string(child)}};
    e.shared_gauge = &live_shared_bytes_->Add(labels);
    e.copied_gauge = &live_copied_bytes_->Add(labels);
    e.shared_gauge->Set(static_cast<double>(shared_bytes));
    e.copied_gauge->Set(0);
    episodes_.emplace(child, std::move(e));
    live_episodes_->Set(static_cast<double>(episodes_.size()));
    tree_pss_.episode_started(child, parent, shared_bytes);
    set_tree_pss();
}

void MetricsExporter::episode_sampled(pid_t child, uint64_t shared_bytes, uint64_t copied_bytes,
                                      bool exact) {
    auto it = episodes_.find(child);
    if (it == episodes_.end()) return;
    LiveEpisode& e = it->second;
    ++e.samples;
    tree_pss_.episode_sampled(child, shared_bytes);
    // The peak is the largest counted figure, as in the report: an estimate only moves the gauges.
    if (exact) e.copied_peak_bytes = std::max(e.copied_peak_bytes, copied_bytes);
    e.shared_gauge->Set(static_cast<double>(shared_bytes));
    e.copied_gauge->Set(static_cast<double>(copied_bytes));
}

void MetricsExporter::episode_ended(pid_t child, wire::EpisodeEndReason reason,
                                    bool final_from_last_sample) {
    bool short_lived = reason == wire::EpisodeEndReason::kShortLived;
    auto it = episodes_.find(child);
    if (it == episodes_.end()) return;
    LiveEpisode& e = it->second;
    prometheus::Labels program{{"program", e.program}};
    // As the report model has it: an episode ended before its first sample measured nothing.
    if (short_lived || e.samples == 0) {
        episodes_unmeasured_total_->Add(program).Increment();
        census_lost_total_->Add({{"reason", "fork_too_short"}}).Increment();
    } else {
        copied_bytes_->Add(program, kCopiedBytesBuckets)
            .Observe(static_cast<double>(e.copied_peak_bytes));
        if (e.shared_bytes > 0) {
            copied_ratio_->Add(program, kCopiedRatioBuckets)
                .Observe(static_cast<double>(e.copied_peak_bytes) /
                         static_cast<double>(e.shared_bytes));
        }
        if (final_from_last_sample)
            census_lost_total_->Add({{"reason", "final_census_skipped"}}).Increment();
    }
    tree_pss_.episode_ended(child, reason == wire::EpisodeEndReason::kExit);
    set_tree_pss();
    live_shared_bytes_->Remove(e.shared_gauge);
    live_copied_bytes_->Remove(e.copied_gauge);
    episodes_.erase(it);
    live_episodes_->Set(static_cast<double>(episodes_.size()));
}

void MetricsExporter::memory_sampled(pid_t pid, uint64_t pss_bytes) {
    tree_pss_.memory_sampled(pid, pss_bytes);
    set_tree_pss();
}

void MetricsExporter::set_tree_pss() {
    tree_pss_bytes_->Set(static_cast<double>(tree_pss_.total_bytes()));
}

void MetricsExporter::on_process_started(pid_t pid) {
    if (!alive_.insert(pid).second) return;
    tree_pss_.process_started(pid);
    processes_started_total_->Increment();
    processes_->Set(static_cast<double>(alive_.size()));
}

void MetricsExporter::on_process_ended(pid_t pid) {
    if (alive_.erase(pid) > 0) {
        processes_ended_total_->Increment();
        processes_->Set(static_cast<double>(alive_.size()));
    }
    forget(pid);  // also what a record that came after its end taught us
}

// What was kept of a process ends with it: the collector's memory stays flat however many come
// and go. (Its episode ends by the census's own record, which follows.)
void MetricsExporter::forget(pid_t pid) {
    tree_pss_.process_ended(pid);
    set_tree_pss();
    program_of_.erase(pid);
}

void MetricsExporter::add_delta(prometheus::Counter& counter, uint64_t& seen, uint64_t now) {
    if (now > seen) counter.Increment(static_cast<double>(now - seen));
    seen = now;
}

void MetricsExporter::on_counts(const CollectorCounts& c) {
    add_delta(*library_records_total_, seen_.library_records, c.library_records);
    add_delta(records_lost_total_->Add({{"reason", "rejected"}}), seen_.rejected_records,
              c.rejected_records);
    add_delta(records_lost_total_->Add({{"reason", "dropped_by_library"}}), seen_.dropped_records,
              c.dropped_records);
    add_delta(records_lost_total_->Add({{"reason", "kernel_events"}}), seen_.kernel_events_lost,
              c.kernel_events_lost);
    add_delta(*trace_bytes_lost_total_, seen_.trace_bytes_lost, c.trace_bytes_lost);
    longest_interval_seconds_->Set(static_cast<double>(c.longest_interval_ns) / 1e9);
}

void MetricsExporter::tick(uint64_t now_ns) {
    if (opt_.file.empty() || now_ns < next_file_ns_) return;
    next_file_ns_ = now_ns + opt_.file_interval_ns;
    std::string ignored;  // the next interval tries again; finish() reports a failure
    write_file(ignored);
}

bool MetricsExporter::finish(std::string& error) {
    return opt_.file.empty() || write_file(error);
}

std::string MetricsExporter::exposition() const {
    return prometheus::TextSerializer().Serialize(registry_->Collect());
}

// Written beside the target and renamed over it: node_exporter never reads half a file.
bool MetricsExporter::write_file(std::string& error) {
    std::string text = exposition();
    std::string tmp = opt_.file + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = "cannot write the metrics file " + tmp + ": " + strerror(errno);
        return false;
    }
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<size_t>(n);
    }
    bool ok = ::close(fd) == 0 && done == text.size();
    if (!ok || rename(tmp.c_str(), opt_.file.c_str()) != 0) {
        error = "cannot write the metrics file " + opt_.file + ": " + strerror(errno);
        unlink(tmp.c_str());
        return false;
    }
    return true;
}

}  // namespace cowtrace::collector

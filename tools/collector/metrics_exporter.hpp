// Prometheus metrics of a long-running collector (`cowtrace record --metrics-listen ADDR:PORT`,
// `--metrics-file PATH`): fork episodes and what they copied, per program; the live episodes'
// shared and copied bytes; the tree's PSS; processes started and ended; what was lost. Fed by
// the same records the trace gets (TraceWriter::observe), decoded with the one schema, plus
// the session's own counts; served by prometheus-cpp's pull exposer and/or written atomically
// as a node_exporter textfile.
//
// Labels stay bounded: the program name (the first kMaxPrograms distinct names, "other" after
// them), never a pid — except on the live-episode gauges, which are removed when their episode
// ends.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "model/live_tree_pss.hpp"
#include "wire/record.hpp"

namespace prometheus {
class Counter;
class Exposer;
class Gauge;
class Histogram;
class Registry;
template <class T>
class Family;
}  // namespace prometheus

namespace cowtrace::collector {

struct MetricsOptions {
    std::string listen;  // "127.0.0.1:9464", "[::1]:9464", ":9464"; empty: no HTTP endpoint
    std::string file;    // node_exporter textfile (name it *.prom); empty: none
    uint64_t file_interval_ns = 15'000'000'000ull;

    bool any() const { return !listen.empty() || !file.empty(); }
};

// What the session itself counts, as running totals.
struct CollectorCounts {
    uint64_t library_records = 0;   // records received from the library
    uint64_t rejected_records = 0;  // malformed, or from a peer refused
    uint64_t dropped_records = 0;   // the library's own count of what it could not send
    uint64_t kernel_events_lost = 0;
    uint64_t trace_bytes_lost = 0;  // records the trace file could not take
    uint64_t longest_interval_ns = 0;
};

class MetricsExporter {
public:
    explicit MetricsExporter(MetricsOptions options);
    ~MetricsExporter();
    MetricsExporter(const MetricsExporter&) = delete;
    MetricsExporter& operator=(const MetricsExporter&) = delete;

    // Binds the HTTP endpoint (if asked) and writes the first textfile; false with a one-line
    // error when either cannot be done.
    bool start(std::string& error);
    // The bound ports, when an HTTP endpoint was asked for (":0" picks one).
    std::string listening_on() const;

    // Every record the trace gets, as written (header included).
    void on_record(const uint8_t* record, size_t size);
    // A process of the tree was seen alive for the first time, or is gone.
    void on_process_started(pid_t pid);
    void on_process_ended(pid_t pid);
    void on_counts(const CollectorCounts& counts);
    // Writes the textfile when its interval has passed.
    void tick(uint64_t now_ns);
    // The last textfile, at the end of the collection.
    bool finish(std::string& error);

    // The exposition as /metrics serves it (text format 0.0.4).
    std::string exposition() const;

    static constexpr size_t kMaxPrograms = 200;

private:
    struct LiveEpisode {
        std::string program;
        pid_t parent = 0;
        uint64_t shared_bytes = 0;
        uint64_t copied_peak_bytes = 0;
        size_t samples = 0;
        prometheus::Gauge* shared_gauge = nullptr;
        prometheus::Gauge* copied_gauge = nullptr;
    };

    const std::string& program_label(const std::string& name);
    std::string program_of(pid_t pid) const;
    void episode_started(pid_t child, pid_t parent, uint64_t shared_bytes);
    void episode_sampled(pid_t child, uint64_t shared_bytes, uint64_t copied_bytes, bool exact);
    void episode_ended(pid_t child, wire::EpisodeEndReason reason, bool final_from_last_sample);
    void memory_sampled(pid_t pid, uint64_t pss_bytes);
    void set_tree_pss();
    void forget(pid_t pid);
    bool write_file(std::string& error);
    static void add_delta(prometheus::Counter& counter, uint64_t& seen, uint64_t now);

    MetricsOptions opt_;
    std::shared_ptr<prometheus::Registry> registry_;
    std::unique_ptr<prometheus::Exposer> exposer_;

    prometheus::Family<prometheus::Counter>* episodes_total_;
    prometheus::Family<prometheus::Counter>* episodes_unmeasured_total_;
    prometheus::Family<prometheus::Histogram>* copied_bytes_;
    prometheus::Family<prometheus::Histogram>* copied_ratio_;
    prometheus::Family<prometheus::Gauge>* live_shared_bytes_;
    prometheus::Family<prometheus::Gauge>* live_copied_bytes_;
    prometheus::Family<prometheus::Counter>* census_lost_total_;
    prometheus::Family<prometheus::Counter>* records_lost_total_;
    prometheus::Gauge* tree_pss_bytes_;
    prometheus::Gauge* live_episodes_;
    prometheus::Gauge* processes_;
    prometheus::Counter* processes_started_total_;
    prometheus::Counter* processes_ended_total_;
    prometheus::Counter* library_records_total_;
    prometheus::Counter* trace_bytes_lost_total_;
    prometheus::Gauge* longest_interval_seconds_;

    std::map<std::string, std::string> programs_;        // names seen → their label (bounded)
    std::unordered_map<pid_t, std::string> program_of_;  // live processes only
    model::LiveTreePss tree_pss_;                        // live processes only
    std::unordered_map<pid_t, LiveEpisode> episodes_;
    std::unordered_set<pid_t> alive_;  // processes started and not yet ended
    CollectorCounts seen_;
    uint64_t next_file_ns_ = 0;
};

}  // namespace cowtrace::collector

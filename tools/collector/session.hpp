// One collection: from the first record to the trace file's last. `cowtrace run` starts the
// command itself (and is then the tree's subreaper); `cowtrace record` only listens.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "call_site_symbolizer.hpp"
#include "collection_observer.hpp"
#include "command_launcher.hpp"
#include "image_inspector.hpp"
#include "metrics_exporter.hpp"
#include "pid_set.hpp"
#include "proc_connector.hpp"
#include "recent_exits.hpp"
#include "run_spool.hpp"
#include "shim_connections.hpp"
#include "trace/trace_reader.hpp"
#include "trace/trace_writer.hpp"
#include "trace_rotation.hpp"
#include "wakeup_coalescing.hpp"

namespace cowtrace::collector {

class CensusService;
class ChildrenPoller;

// What a collection has gathered so far, for a live status line.
struct CollectionStatus {
    uint64_t processes = 0;  // processes of the tree seen (the library's or the kernel's word)
    uint64_t forks = 0;      // children that started as copies of their creator
    uint64_t records = 0;    // records from the library
    uint64_t lost = 0;       // records rejected or dropped, kernel events lost
};

struct SessionOptions {
    std::string trace_path;
    std::string socket_path;           // record mode: where programs connect; run: private dir
    std::string lib_path;              // libcowtrace.so
    std::vector<std::string> command;  // empty: record mode (or attach)
    // attach mode: these running processes and their descendants, observed from outside (the
    // kernel's process events and /proc); ends when they have all ended
    std::vector<pid_t> attach;
    bool kernel_events = true;  // cross-check with the proc connector
    // attach: follow forks, execs and exits by polling /proc at the interval, as when the proc
    // connector is unavailable (children_poller.hpp)
    bool poll_children = false;
    bool exit_with_command = false;    // return when COMMAND ends; leftovers marked running
    bool census = true;                // copy-on-write census of fork episodes
    std::string census_mode = "auto";  // auto | exact | unprivileged
    // Which code copied: page faults sampled for each episode (fault_attributor.hpp).
    std::string attribution = "sampled";  // off | sampled | full
    uint64_t interval_ns = 100'000'000;
    double duty_cycle = 0.02;  // at most this share of one core for sampling
    uint64_t duration_ns = 0;  // record mode: stop after this long (0: at a signal)
    bool quiet = false;
    MetricsOptions metrics;    // record mode: Prometheus endpoint and/or textfile
    RotationOptions rotation;  // record mode: a new trace file by size and/or age
    // Called about every status_interval_ns while collecting (`record` on a terminal).
    std::function<void(const CollectionStatus&)> on_status;
    uint64_t status_interval_ns = 250'000'000;
    // A live view (--live): told every record and every process start and end; not owned.
    CollectionObserver* observer = nullptr;
};

struct SessionResult {
    int exit_code = 0;  // the command's, as a shell would report it
    bool command_started = false;
    std::string error;          // set when the session itself failed
    std::string trace_warning;  // e.g. the trace could not be written whole
};

class Session {
public:
    explicit Session(SessionOptions options);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    SessionResult run();
    // Ends the collection at the loop's next turn, as SIGTERM does in record and attach mode
    // (a live view's quit key); a command of `run` is left alone. From on_status only.
    void stop() { stop_requested_ = true; }

private:
    bool setup(std::string& error);
    bool start_command(std::string& error);
    // attach: the processes as they stand now, then their forks from the kernel's events
    void start_attach();
    void loop();
    void dispatch(int fd, bool rearm_timer);
    void arm_timer(uint64_t delay_ns);
    void write_trace_start(uint64_t t_fork_ns);
    void handle_signals();
    void reap_children();
    void handle_kernel_events();
    // attach without the kernel's events: what a look at /proc found (children_poller.hpp)
    void poll_children(uint64_t now);
    void handle_shim_message(const ShimMessage& m);
    void handle_shim_record(const RawRecord& rec, uint64_t connection_id);
    // Writes the ImageFacts record; returns its flags.
    uint32_t inspect_image(pid_t pid, uint64_t request_t_ns, const std::string& path, uint32_t euid,
                           uint32_t egid);
    void note(wire::NoteSeverity severity, wire::NoteCode code, const std::string& text);
    void drain_after_tree_ended();
    void finish();
    void process_gone(pid_t pid, uint64_t t_ns);
    // A process of our tree, alive unless this news (dated t_ns) came after its end.
    void track(pid_t pid, uint64_t t_ns);
    // The record told observers of a process already gone: they forget it again.
    void forget_if_ended(const uint8_t* record, size_t size);
    void report_status(uint64_t now);
    void update_metrics(uint64_t now);
    void write_symbols(uint64_t t_ns);
    void rotate(uint64_t now);
    void drain_connections();
    void forget_gone(uint64_t now);
    uint64_t now_ns() const;

    SessionOptions opt_;
    SessionResult result_;
    TraceWriter trace_;
    std::unique_ptr<RunSpool> spool_;  // run mode only
    CommandLauncher launcher_;
    std::unique_ptr<ImageInspector> images_;
    ShimConnections shims_;
    ProcConnector kernel_;
    std::unique_ptr<CensusService> census_;
    std::unique_ptr<MetricsExporter> metrics_;
    std::unique_ptr<TraceRotation> rotation_;
    uint64_t file_t0_ns_ = 0;         // when the current trace file began (rotation)
    uint64_t file_records_base_ = 0;  // library records before it
    // Processes gone, forgotten from tracked_ one sweep later (a kernel event about them may
    // still be queued): the collector's memory stays flat however many come and go.
    std::vector<pid_t> gone_recently_, gone_before_;
    RecentExits recent_exits_;
    // Records of a burst gather for 1 ms between rounds (see wakeup_coalescing.hpp).
    WakeupCoalescer coalescer_{1'000'000};
    size_t round_records_ = 0;  // shim records read in this round of the event loop
    uint64_t next_sweep_ns_ = 0;
    bool kernel_ok_ = false;
    bool attribution_warned_ = false;
    std::string kernel_note_;
    bool attached_ = false;                   // attach mode
    std::unique_ptr<ChildrenPoller> poller_;  // attach without the kernel's process events
    // Processes no library speaks for (a static or set-id image, and what they fork): their
    // forks start episodes from the kernel's events, as under attach.
    std::set<pid_t> outside_;
    std::map<pid_t, bool> exec_outside_;  // an exec announced: whether its image is one of those
    std::map<pid_t, uint64_t> kernel_exec_at_;  // the kernel's latest exec event of each process
    std::string root_image_;                    // the command's file, as execvp finds it
    bool observed_from_outside(pid_t pid) const { return attached_ || outside_.count(pid); }
    void kernel_exec(pid_t tgid, pid_t thread, uint64_t t_ns);
    std::string private_dir_;
    int epoll_fd_ = -1;
    int signal_fd_ = -1;
    int timer_fd_ = -1;
    pid_t self_pid_ = 0;
    pid_t root_pid_ = 0;
    int root_status_ = -1;
    bool root_reaped_ = false;
    bool tree_empty_ = false;
    bool stop_requested_ = false;
    uint64_t t0_ns_ = 0;
    PidSet tracked_;                      // processes of our tree, for filtering kernel events
    PidSet live_;                         // processes believed alive, for memory sampling
    std::map<pid_t, pid_t> fork_parent_;  // child → parent, from the child's ChildStart
    std::set<pid_t> leader_exits_;        // main thread gone, other threads not yet (kernel events)
    CallSiteSymbolizer symbolizer_;
    std::vector<uint64_t> frames_;  // a record's call site, for the symbolizer (reused)
    uint64_t shim_records_ = 0;
    uint64_t processes_seen_ = 0;
    uint64_t forks_seen_ = 0;
    uint64_t dropped_records_ = 0;  // the library's own count of what it could not send
    uint64_t next_status_ns_ = 0;
    uint64_t rejected_records_ = 0;
};

}  // namespace cowtrace::collector

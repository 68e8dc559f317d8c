// The seam between the collector's event loop and copy-on-write measurement. This base class is
// the service with measurement off (`cowtrace run --no-cow`, or `record`): it answers census
// requests at once so no child ever waits. CowSampler is the real one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "trace/trace_writer.hpp"
#include "wire/record.hpp"
#include "wire/shim_records.hpp"

namespace cowtrace::collector {

// A forked child the census may follow: a copy of its creator's memory (ChildStart).
struct ForkedChild {
    pid_t child = 0;
    pid_t parent = 0;
    uint64_t t_ns = 0;           // its ChildStart, right after the fork
    uint64_t stack_pointer = 0;  // where it writes on its way out of fork()
    uint64_t thread_pointer = 0;
    // Known from the kernel's fork event alone (attach, a static or set-id parent): no library
    // in the child will ask for a final census.
    bool outside = false;
    // A child of an attached process that was still a copy of it when the attach began: its
    // memory as read then stands for the fork's, and copies made before cannot be attributed.
    bool under_way_at_attach = false;
    // Found by looking at /proc, not by the kernel's fork event: it may have exec'd since, and
    // no exec event will say so before its memory is read.
    bool found_by_polling = false;
};

// A child's request for its final census, as the shim sent it (docs/FORMAT.md).
struct CensusRequest {
    uint64_t connection_id = 0;
    pid_t child = 0;
    pid_t parent = 0;
    wire::CensusKind kind = wire::CensusKind::kBaseline;
    wire::EpisodeEndReason reason = wire::EpisodeEndReason::kExit;  // for a final census
    uint64_t t_ns = 0;
    uint64_t stack_pointer = 0;   // the child's, at the request
    uint64_t thread_pointer = 0;  // its TLS block
};

class CensusService {
public:
    using Ack = std::function<void(uint64_t connection_id, uint32_t status)>;

    CensusService(TraceWriter& trace, Ack ack) : trace_(trace), ack_(std::move(ack)) {}
    virtual ~CensusService() = default;
    CensusService(const CensusService&) = delete;
    CensusService& operator=(const CensusService&) = delete;

    // A forked child started: its fork-time memory is read from outside, as soon as possible
    // (the child does not wait for it).
    virtual void on_forked_child(const ForkedChild&) {}
    // A child asks for its final census (before exit/exec) and waits for the acknowledgement.
    virtual void on_request(const CensusRequest& request) {
        ack_(request.connection_id, wire::CensusAck::kSkipped);
    }
    // A process is about to exec (its ExecAttempt, or the kernel's exec event) at t_ns: what is
    // read of it from then on may be its next image.
    virtual void on_exec_attempt(pid_t, uint64_t) {}
    // A process ended: its episodes end, its memory is no longer sampled.
    virtual void on_process_gone(pid_t, uint64_t) {}
    // A process's exec failed: it goes on in the same image (and episode).
    virtual void on_exec_failed(pid_t) {}
    // Periodic work over the live processes; returns the delay until the next call (0: never).
    virtual uint64_t on_timer(uint64_t, const std::vector<pid_t>&) { return 0; }
    // Readable when results wait for collect_results() (the service's own thread made them).
    virtual int notify_fd() const { return -1; }
    virtual void collect_results() {}
    // The trace ends: episodes still open are written as running.
    virtual void finish(uint64_t) {}
    virtual std::string mode_name() const { return "off"; }
    // The longest sampling interval used (the interval stretches to respect the duty cycle).
    virtual uint64_t longest_interval_ns() const { return 0; }

    // What the event loop hands over while a Batch is open (the records of one read of a
    // connection) is queued in order as it comes, but routine work (processes gone, failed
    // execs) wakes the service's thread once, when the batch closes: a wake-up per record cost
    // the loop more than the record (PERFORMANCE.md). Work a process waits or races for wakes
    // it at once.
    class Batch {
    public:
        explicit Batch(CensusService& service) : service_(service) { service_.open_batch(); }
        ~Batch() { service_.close_batch(); }
        Batch(const Batch&) = delete;
        Batch& operator=(const Batch&) = delete;

    private:
        CensusService& service_;
    };

protected:
    virtual void open_batch() {}
    virtual void close_batch() {}

    TraceWriter& trace_;
    Ack ack_;
};

}  // namespace cowtrace::collector

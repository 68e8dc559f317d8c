// Copy-on-write measurement of fork episodes, run by the collector from outside the traced
// processes. This header is the seam between the event loop and the census machinery.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "trace_writer.hpp"

namespace cowtrace::collector {

class CensusService {
public:
    using Ack = std::function<void(uint64_t connection_id, uint32_t status)>;

    CensusService(TraceWriter& trace, Ack ack) : trace_(trace), ack_(std::move(ack)) {}
    virtual ~CensusService() = default;

    // A child asks for its baseline (right after fork) or final (before exit/exec) census and
    // waits for the acknowledgement.
    virtual void on_request(uint64_t connection_id, pid_t child, pid_t parent, uint8_t kind,
                            uint64_t t_ns) {
        (void)child;
        (void)parent;
        (void)kind;
        (void)t_ns;
        ack_(connection_id, 1);
    }
    // A fork episode's child exec'd or exited: no more samples for it.
    virtual void on_process_gone(pid_t, uint64_t) {}
    // Periodic work; returns the delay in ns until it wants to run again (0: never).
    virtual uint64_t on_timer(uint64_t) { return 0; }
    // Results to write and acks to send, from the service's own thread.
    virtual int notify_fd() const { return -1; }
    virtual void collect_results() {}
    virtual void finish(uint64_t) {}
    virtual std::string mode_name() const { return "off"; }

protected:
    TraceWriter& trace_;
    Ack ack_;
};

}  // namespace cowtrace::collector

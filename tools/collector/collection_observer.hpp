// A live view of a collection (`cowtrace run --live`, `attach --live`) is told what the trace
// is told, as it happens: each record as written, and the processes of the tree as the session
// sees them start and end (which no single record says in every mode). Called on the session's
// thread, between its other work: an observer must return quickly and never block.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace cowtrace::collector {

class CollectionObserver {
public:
    virtual ~CollectionObserver() = default;
    // Every record the trace gets, header included.
    virtual void on_record(const uint8_t* record, size_t size) = 0;
    // A process of the tree was seen alive for the first time, or is gone.
    virtual void on_process_started(pid_t pid) = 0;
    virtual void on_process_ended(pid_t pid) = 0;
};

}  // namespace cowtrace::collector

// What each process exec'd: the library's attempts and failures, the kernel's exec events, the
// hello of each new image, and what the collector found in the files. An attempt no one
// contradicts succeeded; the new image's hello confirms it.
#pragma once

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "build_context.hpp"
#include "wire/collector_records.hpp"
#include "wire/shim_records.hpp"

namespace cowtrace::model {

// wire::ImageFlag bits as the model's facts.
ExecImage exec_image_from(uint32_t image_flags);

class ExecHistory {
public:
    explicit ExecHistory(BuildContext& ctx) : ctx_(ctx) {}

    void on_exec_attempt(const wire::RecordHeader& h, const wire::ExecAttempt& attempt, uint64_t t);
    void on_exec_failed(const wire::RecordHeader& h, const wire::ExecFailed& failure);
    void on_kernel_exec(const wire::RecordHeader& h, const wire::KernelExec& exec, uint64_t t);
    // Every hello is a freshly exec'd image: it confirms the exec we saw attempted, or the one
    // the kernel reported, or is the first we hear of it (posix_spawn, system…).
    void on_hello(Process& p, const wire::Hello& hello, uint64_t t);
    // The collector's inspection of the file an attempt named; false if no attempt matches.
    bool on_image_facts(const wire::RecordHeader& h, const wire::ImageFacts& facts);
    // The kernel saw p exit: an attempt still open then was cut short.
    void on_kernel_exit(const Process& p);
    // Settles every attempt whose outcome no record told.
    void finalize();

private:
    BuildContext& ctx_;
    std::unordered_set<size_t> awaiting_hello_;  // the kernel saw an exec; its image may say hello
    std::unordered_set<size_t> open_at_kernel_exit_;
    // Where ImageFacts land: each attempt's (pid, t_ns) and its process and exec. Records come
    // in time order, so this list is sorted by t_ns (a map took 64 bytes more an attempt).
    struct Attempt {
        uint64_t t_ns;
        pid_t pid;
        uint32_t exec;  // index into the process's execs
        size_t process;
    };
    std::vector<Attempt> attempts_;
};

}  // namespace cowtrace::model

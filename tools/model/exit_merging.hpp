// How each process ended, from every witness: its own exit call, the parent that reaped it
// (wait wrappers; system() and pclose() for children they never name), the collector's
// subreaping, and the kernel's exit event. The most trusted word wins (ExitSource), and the
// kernel's time is the end.
#pragma once

#include <cstdint>

#include "build_context.hpp"
#include "creation_matching.hpp"
#include "exec_history.hpp"
#include "wire/collector_records.hpp"
#include "wire/shim_records.hpp"

namespace cowtrace::model {

// A wait(2) status as the model's ExitStatus.
ExitStatus status_from_wait(int status, ExitSource source);

class ExitMerger {
public:
    ExitMerger(BuildContext& ctx, CreationMatcher& creations, ExecHistory& execs)
        : ctx_(ctx), creations_(creations), execs_(execs) {}

    void on_exit(const wire::RecordHeader& h, const wire::Exit& exit, uint64_t t);
    void on_wait_reaped(const wire::RecordHeader& h, const wire::WaitReaped& reaped, uint64_t t);
    void on_subreaper_reaped(const wire::RecordHeader& h, const wire::SubreaperReaped& reaped,
                             uint64_t t);
    void on_kernel_exit(const wire::RecordHeader& h, const wire::KernelExit& exit, uint64_t t);

private:
    // A status from a reaper or the kernel: the process was gone by t.
    void set_exit(pid_t pid, const ExitStatus& s, uint64_t t, bool exact_time);
    static void merge(Process& p, const ExitStatus& s, uint64_t t, bool exact_time);

    BuildContext& ctx_;
    CreationMatcher& creations_;
    ExecHistory& execs_;
};

}  // namespace cowtrace::model

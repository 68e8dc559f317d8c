#include "exit_merging.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <csignal>

namespace cowtrace::model {

ExitStatus status_from_wait(int status, ExitSource source) {
    ExitStatus s;
    s.source = source;
    if (WIFEXITED(status)) {
        s.kind = ExitStatus::Kind::kCode;
        s.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        s.kind = ExitStatus::Kind::kSignal;
        s.signal = WTERMSIG(status);
        s.core = WCOREDUMP(status);
    }
    return s;
}

void ExitMerger::on_exit(const wire::RecordHeader& h, const wire::Exit& exit, uint64_t t) {
    Process& p = ctx_.index.sender(h, t);
    const std::vector<ExecEvent>& execs = ctx_.execs_of(p);
    bool first_image =
        std::none_of(execs.begin(), execs.end(), [](const ExecEvent& x) { return x.ok; });
    if (first_image && exit.minor_faults != 0 && !(h.flags & wire::kFromVforkChild)) {
        p.set_first_image_minor_faults(exit.minor_faults);
    }
    ExitStatus s;
    s.source = ExitSource::kSelf;
    if (exit.how == wire::ExitHow::kAbort) {
        s.kind = ExitStatus::Kind::kSignal;
        s.signal = SIGABRT;
    } else {
        s.kind = ExitStatus::Kind::kCode;
        s.code = exit.code & 0xff;
    }
    merge(p, s, t, false);
}

void ExitMerger::on_wait_reaped(const wire::RecordHeader& h, const wire::WaitReaped& reaped,
                                uint64_t t) {
    ExitStatus s = status_from_wait(reaped.status, ExitSource::kParent);
    if (reaped.child > 0) {
        set_exit(reaped.child, s, t, false);
    } else if (Process* child = creations_.reaped_unnamed_child(h, reaped.call)) {
        merge(*child, s, t, false);
    }
}

void ExitMerger::on_subreaper_reaped(const wire::RecordHeader& h,
                                     const wire::SubreaperReaped& reaped, uint64_t t) {
    set_exit(h.pid, status_from_wait(reaped.status, ExitSource::kCollector), t, false);
}

void ExitMerger::on_kernel_exit(const wire::RecordHeader& h, const wire::KernelExit& exit,
                                uint64_t t) {
    if (exit.status_unknown) {
        // Found ended by a look at /proc, after its reaping: when is known to the look, how not.
        std::optional<size_t> current = ctx_.index.current(h.pid);
        Process& p = current ? ctx_.tree.processes[*current] : ctx_.index.at(h.pid, t, false);
        ctx_.index.mark_gone(ctx_.index.index_of(p), t);
        merge(p, ExitStatus{}, t, false);
    } else {
        set_exit(h.pid, status_from_wait(exit.status, ExitSource::kKernel), t, true);
    }
    execs_.on_kernel_exit(ctx_.tree.processes[*ctx_.index.current(h.pid)]);
}

void ExitMerger::set_exit(pid_t pid, const ExitStatus& s, uint64_t t, bool exact_time) {
    std::optional<size_t> current = ctx_.index.current(pid);
    Process& p = current ? ctx_.tree.processes[*current] : ctx_.index.at(pid, t, false);
    if (s.kind != ExitStatus::Kind::kUnknown) ctx_.index.mark_gone(ctx_.index.index_of(p), t);
    merge(p, s, t, exact_time);
}

void ExitMerger::merge(Process& p, const ExitStatus& s, uint64_t t, bool exact_time) {
    if (s.kind != ExitStatus::Kind::kUnknown && more_trusted_or_equal(s.source, p.exit.source)) {
        p.exit = s;
    }
    if (exact_time || !p.end_ns()) p.set_end_ns(t);
}

}  // namespace cowtrace::model

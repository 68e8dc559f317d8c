#include "exec_history.hpp"

#include <algorithm>
#include <iterator>

namespace cowtrace::model {

ExecImage exec_image_from(uint32_t f) {
    ExecImage image;
    image.static_binary = f & wire::kImageStatic;
    image.setid = f & wire::kImageSetid;
    image.file_capabilities = f & wire::kImageFileCaps;
    image.script = f & wire::kImageScript;
    image.not_elf = f & wire::kImageNotElf;
    image.foreign_arch = f & wire::kImageForeignArch;
    image.unreadable = f & wire::kImageUnreadable;
    image.without_library = f & wire::kImageNoPreload;
    image.other_uid = f & wire::kImageOtherUid;
    return image;
}

void ExecHistory::on_exec_attempt(const wire::RecordHeader& h, const wire::ExecAttempt& attempt,
                                  uint64_t t) {
    Process& p = ctx_.index.sender(h, t);
    std::vector<ExecEvent>& execs = ctx_.execs_of(p);
    ExecEvent e;
    e.t_ns = t;
    e.requested_path = ExecPath::interned(attempt.path.view(), ctx_.command_lines);
    e.path = attempt.resolved_path.empty()
                 ? e.requested_path
                 : ExecPath::interned(attempt.resolved_path.view(), ctx_.command_lines);
    e.image = exec_image_from(attempt.image_flags);
    bool truncated = e.argv_truncated;
    e.argv = ctx_.command_lines.intern(attempt.argv, &truncated);
    e.argv_truncated = truncated;
    e.env_reinjected = attempt.env_reinjected;
    bool first_image =
        std::none_of(execs.begin(), execs.end(), [](const ExecEvent& x) { return x.ok; });
    if (first_image && attempt.minor_faults != 0 && !(h.flags & wire::kFromVforkChild)) {
        p.set_first_image_minor_faults(attempt.minor_faults);
    }
    // An earlier attempt still open was cut short (its failure record was lost).
    if (!execs.empty() && !execs.back().resolved) execs.back().resolved = true;
    size_t index = ctx_.index.index_of(p);
    awaiting_hello_.erase(index);
    attempts_.push_back(Attempt{h.t_ns, h.pid, static_cast<uint32_t>(execs.size()), index});
    execs.push_back(std::move(e));
}

void ExecHistory::on_exec_failed(const wire::RecordHeader& h, const wire::ExecFailed& failure) {
    std::vector<ExecEvent>& execs = ctx_.execs_of(ctx_.index.sender(h, ctx_.rel(h.t_ns)));
    if (execs.empty() || execs.back().resolved) return;
    execs.back().ok = false;
    execs.back().error = failure.error;
    execs.back().resolved = true;
}

void ExecHistory::on_kernel_exec(const wire::RecordHeader& h, const wire::KernelExec& exec,
                                 uint64_t t) {
    Process& p = ctx_.index.at(h.pid, t, false);
    std::vector<ExecEvent>& execs = ctx_.execs_of(p);
    if (execs.empty() || execs.back().resolved) {
        execs.emplace_back();
        execs.back().t_ns = t;
    }
    ExecEvent& e = execs.back();
    e.ok = e.confirmed = e.resolved = true;
    // What the collector read from /proc (attach): the library's own word, if any, wins.
    if (e.path.empty() && !exec.execfn.empty())
        e.path = ExecPath::interned(exec.execfn.view(), ctx_.command_lines);
    if (e.argv.empty()) e.argv = ctx_.command_lines.intern(exec.argv);
    awaiting_hello_.insert(ctx_.index.index_of(p));
}

void ExecHistory::on_hello(Process& p, const wire::Hello& hello, uint64_t t) {
    size_t index = ctx_.index.index_of(p);
    std::vector<ExecEvent>& execs = ctx_.execs_of(index);
    ExecEvent* e = nullptr;
    if (!execs.empty() && (!execs.back().resolved || awaiting_hello_.count(index))) {
        e = &execs.back();
    } else {
        execs.emplace_back();
        e = &execs.back();
        e->t_ns = t;
    }
    awaiting_hello_.erase(index);
    e->ok = e->confirmed = e->resolved = true;
    if (!hello.execfn.empty())
        e->path = ExecPath::interned(hello.execfn.view(), ctx_.command_lines);
    if (e->requested_path.empty())
        e->requested_path = ExecPath::interned(hello.execfn.view(), ctx_.command_lines);
    if (e->argv.empty()) {  // the argv as passed wins; a script's cmdline is its interpreter's
        bool truncated = e->argv_truncated;
        e->argv = ctx_.command_lines.intern(hello.argv, &truncated);
        e->argv_truncated = truncated;
    }
}

bool ExecHistory::on_image_facts(const wire::RecordHeader& h, const wire::ImageFacts& facts) {
    // The latest attempt of that pid at that instant (the list is in time order).
    auto after = std::upper_bound(attempts_.begin(), attempts_.end(), facts.request_t_ns,
                                  [](uint64_t t, const Attempt& a) { return t < a.t_ns; });
    for (auto it = std::make_reverse_iterator(after);
         it != attempts_.rend() && it->t_ns == facts.request_t_ns; ++it) {
        if (it->pid != h.pid) continue;
        std::vector<ExecEvent>& execs = ctx_.execs_of(it->process);
        if (it->exec < execs.size())
            execs[it->exec].image.merge(exec_image_from(facts.image_flags));
        return true;
    }
    return false;
}

void ExecHistory::on_kernel_exit(const Process& p) {
    const std::vector<ExecEvent>& execs = ctx_.execs_of(p);
    if (!execs.empty() && !execs.back().resolved) {
        open_at_kernel_exit_.insert(ctx_.index.index_of(p));
    }
}

void ExecHistory::finalize() {
    // The kernel reports every exec it completes before the exit it reports: an attempt still
    // open at the exit was cut short (killed mid-exec). Without every kernel event that cannot
    // be told, and the attempt counts as done, as below.
    if (ctx_.tree.kernel_events_lost == 0) {
        for (size_t i : open_at_kernel_exit_) {
            ExecEvent& e = ctx_.execs_of(i).back();
            if (!e.resolved) e.resolved = true;  // ok stays false
        }
    }
    // An exec attempt that never reported failure succeeded: our wrapper would have seen the
    // real call return. (A static or set-id image never says hello.)
    for (std::vector<ExecEvent>& execs : ctx_.execs) {
        for (auto& e : execs) {
            if (!e.resolved) e.ok = e.resolved = true;
        }
    }
}

}  // namespace cowtrace::model

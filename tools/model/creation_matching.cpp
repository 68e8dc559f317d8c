#include "creation_matching.hpp"

#include <algorithm>
#include <iterator>

#include "exec_history.hpp"

namespace cowtrace::model {

namespace {

using wire::CreateHow;

bool is_spawn(CreateHow how) {
    return how == CreateHow::kPosixSpawn || how == CreateHow::kPosixSpawnp ||
           how == CreateHow::kPidfdSpawn;
}

std::vector<uint64_t> frames_of(const wire::U64List& list) {
    std::vector<uint64_t> out;
    list.for_each([&](uint64_t ip) { out.push_back(ip); });
    return out;
}

}  // namespace

void CreationMatcher::on_created(const wire::RecordHeader& h, const wire::Created& created,
                                 uint64_t t) {
    ctx_.index.sender(h, t);
    SpawnInfo spawn;
    spawn.path = ExecPath::interned(created.spawn_path.view(), ctx_.command_lines);
    spawn.argv = ctx_.command_lines.intern(created.spawn_argv);
    spawn.image = exec_image_from(created.image_flags);
    if (created.child <= 0) {
        if (is_spawn(created.how)) claim_failed_spawn_child(h, created, spawn, t);
        return;
    }
    Process& c = child_named_by_creator(created.child, h.pid, t);
    c.ppid = h.pid;
    c.how = created.how;
    c.call_site = ctx_.call_sites.intern(frames_of(created.call_site));
    c.creation_seen_by_shim = true;
    if (is_spawn(created.how)) {
        size_t index = ctx_.index.index_of(c);
        spawn_info_[index] = std::move(spawn);
        spawns_[{h.pid, h.t_ns}] = index;
    }
}

// A posix_spawn whose exec fails still made a child: glibc's helper ran on the caller's memory,
// failed to exec, _exited 127 and was reaped inside posix_spawn, which returns the error and
// never the pid. Only the kernel saw that process (found by the hostile-host tests: it was
// booked as "created by an untraced mechanism"). It is the latest child the same thread created
// (the kernel names the forking thread) that no library record speaks for; it gets its
// creator's call site and the failed exec.
void CreationMatcher::claim_failed_spawn_child(const wire::RecordHeader& h,
                                               const wire::Created& created, const SpawnInfo& spawn,
                                               uint64_t t) {
    auto it = kernel_children_of_thread_.find(h.tid);
    if (it == kernel_children_of_thread_.end()) return;
    for (auto c = it->second.rbegin(); c != it->second.rend(); ++c) {
        Process& p = ctx_.tree.processes[*c];
        if (p.ppid != h.pid || p.creation_seen_by_shim || p.shim_loaded || p.start_ns > t) {
            continue;
        }
        p.how = created.how;
        p.call_site = ctx_.call_sites.intern(frames_of(created.call_site));
        p.creation_seen_by_shim = true;
        ExecEvent e;
        e.t_ns = p.start_ns;
        e.path = e.requested_path = spawn.path;
        e.argv = spawn.argv;
        e.image = spawn.image;
        e.error = created.error;
        e.resolved = true;  // ok stays false
        ctx_.execs_of(*c).push_back(std::move(e));
        spawns_[{h.pid, h.t_ns}] = *c;
        it->second.erase(std::next(c).base());
        return;
    }
}

// The creator reports a child after fork returns, and the child may have run to its end by
// then. The report still names that process, not a new one that recycled its pid: a child
// whose creator has not reported it yet is the one.
Process& CreationMatcher::child_named_by_creator(pid_t child, pid_t creator, uint64_t t) {
    auto named = [this](size_t index) {
        if (index >= named_by_creator_.size()) named_by_creator_.resize(index + 1);
        return named_by_creator_[index];
    };
    std::optional<size_t> current = ctx_.index.current(child);
    if (current && !named(*current) && ctx_.tree.processes[*current].ppid == creator) {
        named(*current) = true;
        return ctx_.tree.processes[*current];
    }
    Process& c = ctx_.index.at(child, t, true);
    named(ctx_.index.index_of(c)) = true;
    return c;
}

void CreationMatcher::on_child_start(const wire::RecordHeader& h, const wire::ChildStart& start,
                                     uint64_t t) {
    Process& c = ctx_.index.sender(h, t);
    if (c.ppid <= 0 && start.parent > 0) c.ppid = start.parent;
    if (c.how == CreateHow::kUnknown) c.how = start.how;
    if (start.how != CreateHow::kUnknown) c.creation_seen_by_shim = true;
    if (start.token != 0) {
        auto it = unnamed_begins_.find(start.parent);
        if (it == unnamed_begins_.end()) return;
        for (auto& b : it->second) {
            if (b.token != start.token) continue;
            b.used = true;
            if (c.call_site.empty()) c.call_site = b.frames;
            if (b.t_ns < c.start_ns) c.start_ns = b.t_ns;
            break;
        }
    } else if (start.parent > 0) {
        claim_begin_of_kind(c, start.parent, start.how);
    }
}

void CreationMatcher::on_spawn_begin(const wire::RecordHeader& h, const wire::SpawnBegin& begin,
                                     uint64_t t) {
    ctx_.index.sender(h, t);
    SpawnBegin b;
    b.t_ns = t;
    b.tid = h.tid;
    b.how = begin.how;
    b.token = begin.token;
    b.frames = ctx_.call_sites.intern(frames_of(begin.call_site));
    unnamed_begins_[h.pid].push_back(std::move(b));
}

void CreationMatcher::on_kernel_fork(const wire::RecordHeader& h, const wire::KernelFork& fork,
                                     uint64_t t) {
    Process& c = ctx_.index.at(h.pid, t, true);
    c.creation_seen_by_kernel = true;
    if (c.ppid <= 0) c.ppid = fork.parent;
    if (fork.parent_thread > 0) {
        kernel_children_of_thread_[fork.parent_thread].push_back(ctx_.index.index_of(c));
    }
}

void CreationMatcher::claim_unnamed_spawn(Process& p, pid_t ppid) {
    pid_t parent = p.ppid > 0 ? p.ppid : ppid;
    auto announced_by_hello = [](CreateHow how) {
        return how == CreateHow::kSystem || how == CreateHow::kPopen || how == CreateHow::kWordexp;
    };
    if (SpawnBegin* b = unclaimed_begin(parent, p, announced_by_hello)) claim(*b, p, parent);
}

// daemon()'s child and a fork made through syscall() introduce themselves with a child start
// of that kind (unknown for syscall(): the library only notices it is in a new process) and no
// token: they claim their parent's begin of that kind.
void CreationMatcher::claim_begin_of_kind(Process& c, pid_t parent, CreateHow how) {
    CreateHow kind = how == CreateHow::kUnknown ? CreateHow::kRawSyscall : how;
    auto same_kind = [kind](CreateHow h) { return h == kind; };
    if (SpawnBegin* b = unclaimed_begin(parent, c, same_kind)) claim(*b, c, parent);
}

template <class Accept>
CreationMatcher::SpawnBegin* CreationMatcher::unclaimed_begin(pid_t parent, const Process& child,
                                                              Accept accept) {
    auto it = unnamed_begins_.find(parent);
    if (it == unnamed_begins_.end()) return nullptr;
    // A begin of an image the parent has since replaced was never claimed (its shell never said
    // hello): a child created after the exec is not its child.
    uint64_t image_start = 0;
    if (std::optional<size_t> p = ctx_.index.current(parent)) {
        for (const auto& e : ctx_.execs_of(*p)) {
            if (e.ok && e.t_ns <= child.start_ns) image_start = std::max(image_start, e.t_ns);
        }
    }
    for (auto& b : it->second) {
        if (!b.used && b.t_ns >= image_start && b.t_ns <= child.start_ns + 1 && accept(b.how)) {
            return &b;
        }
    }
    return nullptr;
}

void CreationMatcher::claim(SpawnBegin& b, Process& p, pid_t parent) {
    b.used = true;
    b.child = ctx_.index.index_of(p);
    p.how = b.how;
    p.call_site = b.frames;
    p.creation_seen_by_shim = true;
    if (p.ppid <= 0) p.ppid = parent;
}

// system() runs on its caller's thread from begin to status; pclose() is matched only while one
// popen child awaits its status, as streams may be closed in any order.
Process* CreationMatcher::reaped_unnamed_child(const wire::RecordHeader& h, wire::WaitCall call) {
    auto it = unnamed_begins_.find(h.pid);
    if (it == unnamed_begins_.end()) return nullptr;
    SpawnBegin* match = nullptr;
    if (call == wire::WaitCall::kSystem) {
        for (auto& b : it->second) {
            if (b.how == CreateHow::kSystem && b.tid == h.tid) match = &b;
        }
    } else if (call == wire::WaitCall::kPclose) {
        int waiting = 0;
        for (auto& b : it->second) {
            if (b.how == CreateHow::kPopen && !b.reaped) {
                match = &b;
                ++waiting;
            }
        }
        if (waiting != 1) match = nullptr;
    }
    if (match == nullptr || match->reaped) return nullptr;
    match->reaped = true;
    return match->child == SIZE_MAX ? nullptr : &ctx_.tree.processes[match->child];
}

bool CreationMatcher::on_image_facts(const wire::RecordHeader& h, const wire::ImageFacts& facts) {
    auto it = spawns_.find({h.pid, facts.request_t_ns});
    if (it == spawns_.end()) return false;
    ExecImage image = exec_image_from(facts.image_flags);
    auto info = spawn_info_.find(it->second);
    if (info != spawn_info_.end()) {
        info->second.image.merge(image);
    } else {
        std::vector<ExecEvent>& execs = ctx_.execs_of(it->second);
        if (!execs.empty()) execs.front().image.merge(image);  // a failed spawn's child
    }
    return true;
}

void CreationMatcher::finalize() {
    for (auto& [i, spawn] : spawn_info_) {
        const Process& p = ctx_.tree.processes[i];
        std::vector<ExecEvent>& execs = ctx_.execs_of(i);
        if (execs.empty()) {
            ExecEvent e;
            e.t_ns = p.start_ns;
            e.ok = e.resolved = true;
            execs.push_back(e);
        }
        ExecEvent& first = execs.front();
        if (first.path.empty()) first.path = spawn.path;
        if (first.requested_path.empty()) first.requested_path = spawn.path;
        if (first.argv.empty()) first.argv = spawn.argv;
        first.image.merge(spawn.image);
    }
}

}  // namespace cowtrace::model

#include "tree_builder.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "wire/wire_reader.hpp"

namespace cowtrace::model {

namespace {

using wire::CreateHow;
using wire::RecordType;

// How far each source of an exit status is trusted.
constexpr int kRankSelf = 1;
constexpr int kRankReaper = 3;
constexpr int kRankKernel = 4;

struct SpawnBegin {
    uint64_t t_ns;
    pid_t tid;  // the caller's thread: system() begins and ends on it
    CreateHow how;
    uint32_t token;
    std::vector<uint64_t> frames;
    bool used = false;
    size_t child = SIZE_MAX;  // the process that claimed it, index into tree_.processes
    bool reaped = false;      // its system()/pclose() status has been booked
};

// The sequence numbers one image (or one forked process) gave its records. Threads take numbers
// and timestamps in either order, so records sorted by time are not sorted by number: the span
// is judged as a whole (lowest to highest, how many arrived), not one record after another.
struct SequenceSpan {
    bool from_zero = false;  // opened by the image's first record (hello, child start)
    uint32_t lowest = UINT32_MAX;
    uint32_t highest = 0;
    uint64_t count = 0;

    uint32_t missing() const {
        if (count == 0) return 0;
        uint64_t expected = uint64_t{highest} - (from_zero ? 0 : lowest) + 1;
        return expected > count ? static_cast<uint32_t>(expected - count) : 0;
    }
};

struct SpawnInfo {  // what a posix_spawn caller said it would run
    std::string path;
    std::vector<std::string> argv;
    uint32_t image_flags = 0;
};

std::vector<std::string> read_strings(wire::WireReader& r, bool* truncated = nullptr) {
    std::vector<std::string> out;
    bool t = r.strlist([&](std::string_view s) { out.emplace_back(s); });
    if (truncated) *truncated = t;
    return out;
}

std::vector<uint64_t> read_frames(wire::WireReader& r) {
    std::vector<uint64_t> out;
    r.u64list([&](uint64_t v) { out.push_back(v); });
    return out;
}

bool is_shim_record(uint16_t type) {
    return type >= static_cast<uint16_t>(RecordType::kHello) &&
           type <= static_cast<uint16_t>(RecordType::kEnvScrubbed);
}

ExitStatus status_from_wait(int status, const char* source, int rank) {
    ExitStatus s;
    s.source = source;
    s.rank = rank;
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

class Builder {
public:
    explicit Builder(ProcessTree& tree) : tree_(tree) {}

    void add(const RawRecord& rec) {
        const wire::RecordHeader& h = rec.header;
        wire::WireReader r(rec.payload.data(), rec.payload.size());
        uint64_t t = rel(h.t_ns);
        last_t_ = std::max(last_t_, t);
        if (is_shim_record(h.type)) track_sequence(h, own(h, t));
        switch (static_cast<RecordType>(h.type)) {
            case RecordType::kTraceStart: on_trace_start(h, r); break;
            case RecordType::kTraceEnd: on_trace_end(r, t); break;
            case RecordType::kCollectorNote: {
                TraceNote n;
                n.t_ns = t;
                n.severity = r.u8();
                r.u16();
                n.text = std::string(r.str());
                tree_.notes.push_back(std::move(n));
                break;
            }
            case RecordType::kHello: on_hello(h, r, t); break;
            case RecordType::kCreated: on_created(h, r, t); break;
            case RecordType::kChildStart: on_child_start(h, r, t); break;
            case RecordType::kSpawnBegin: on_spawn_begin(h, r, t); break;
            case RecordType::kExecAttempt: on_exec_attempt(h, r, t); break;
            case RecordType::kExecFailed: on_exec_failed(h, r); break;
            case RecordType::kExit: on_exit(h, r, t); break;
            case RecordType::kWaitReaped: on_wait_reaped(h, r, t); break;
            case RecordType::kSubreaperReaped:
                set_exit(h.pid, status_from_wait(r.i32(), "collector", kRankReaper), t);
                break;
            case RecordType::kKernelFork: on_kernel_fork(h, r, t); break;
            case RecordType::kKernelExec: on_kernel_exec(h, t); break;
            case RecordType::kKernelExit: on_kernel_exit(h, r, t); break;
            case RecordType::kDropped: {
                uint64_t n = r.u64();
                own(h, t).dropped_records += n;
                tree_.dropped_records += n;
                break;
            }
            case RecordType::kDlopenDeepbind: own(h, t).deepbind = true; break;
            case RecordType::kEpisodeStart: on_episode_start(h, r, t); break;
            case RecordType::kEpisodeSample: on_episode_sample(h, r, t); break;
            case RecordType::kEpisodeRegions: on_episode_regions(h, r); break;
            case RecordType::kEpisodeEnd: on_episode_end(h, r, t); break;
            case RecordType::kMemorySample: on_memory_sample(h, r, t); break;
            case RecordType::kSymbol: {
                pid_t pid = r.i32();
                uint64_t ip = r.u64();
                tree_.symbols[{pid, ip}] = std::string(r.str());
                break;
            }
            default:
                break;  // unknown or not part of the tree (census records): skipped
        }
    }

    void finalize() {
        // A trace cut short has no end record: it lasted at least until its last record.
        if (!tree_.complete) tree_.end_ns = std::max(tree_.end_ns, last_t_);
        name_command_that_did_not_start();
        for (auto& [i, span] : seq_spans_) tree_.processes[i].seq_gaps += span.missing();
        // The kernel reports every exec it completes before the exit it reports: an attempt
        // still open at the exit was cut short (killed mid-exec). Without every kernel event
        // that cannot be told, and the attempt counts as done, as below.
        if (tree_.kernel_events_lost == 0) {
            for (size_t i : exec_open_at_kernel_exit_) {
                ExecEvent& e = tree_.processes[i].execs.back();
                if (!e.resolved) e.resolved = true;  // ok stays false
            }
        }
        for (size_t i = 0; i < tree_.processes.size(); ++i) {
            Process& p = tree_.processes[i];
            // An exec attempt that never reported failure succeeded: our wrapper would have
            // seen the real call return. (A static or set-id image never says hello.)
            for (auto& e : p.execs) {
                if (!e.resolved) {
                    e.ok = true;
                    e.resolved = true;
                }
            }
            auto spawn = spawn_info_.find(i);
            if (spawn != spawn_info_.end()) {
                if (p.execs.empty()) {
                    ExecEvent e;
                    e.t_ns = p.start_ns;
                    e.ok = e.resolved = true;
                    p.execs.push_back(e);
                }
                ExecEvent& first = p.execs.front();
                if (first.path.empty()) first.path = spawn->second.path;
                if (first.requested_path.empty()) first.requested_path = spawn->second.path;
                if (first.argv.empty()) first.argv = spawn->second.argv;
                first.image_flags |= spawn->second.image_flags;
            }
            // `cowtrace run` ends a complete trace with the list of the processes still alive
            // (it waits for all of them unless told not to): an ended process whose end nobody
            // saw (reaped through a RTLD_DEEPBIND plugin's waitpid, without the kernel's
            // witness) is not running. Without that list (record mode, a lost collector) a
            // process with no known end may be.
            bool alive_listed = tree_.complete && tree_.root_pid > 0;
            if (!alive_listed && !p.end_ns && p.exit.kind == ExitStatus::Kind::kUnknown) {
                p.still_running = true;
            }
        }
        for (pid_t pid : leftovers_) {
            auto it = current_.find(pid);
            if (it != current_.end()) tree_.processes[it->second].still_running = true;
        }
        // Parent links: the creator's incarnation alive when the child started.
        std::vector<size_t> parent_of(tree_.processes.size(), SIZE_MAX);
        for (size_t i = 0; i < tree_.processes.size(); ++i) {
            Process& p = tree_.processes[i];
            if (p.ppid <= 0) continue;
            size_t best = SIZE_MAX;
            for (size_t j : by_pid_[p.ppid]) {
                if (j == i) continue;
                if (tree_.processes[j].start_ns <= p.start_ns) best = j;
            }
            if (best == SIZE_MAX && !by_pid_[p.ppid].empty()) best = by_pid_[p.ppid].front();
            if (best != SIZE_MAX && best != i) parent_of[i] = best;
        }
        break_cycles(parent_of);
        for (size_t i = 0; i < parent_of.size(); ++i) {
            if (parent_of[i] != SIZE_MAX) tree_.processes[parent_of[i]].children.push_back(i);
        }
        for (auto& p : tree_.processes) {
            std::sort(p.children.begin(), p.children.end(), [this](size_t a, size_t b) {
                return tree_.processes[a].start_ns < tree_.processes[b].start_ns;
            });
        }
    }

private:
    // A command `cowtrace run` could not start (exec failed in the collector's child) has no
    // record of its own: it is the command the trace names, and it ended as the end record says.
    void name_command_that_did_not_start() {
        if (tree_.root_pid <= 0) return;
        auto it = current_.find(tree_.root_pid);
        if (it == current_.end()) return;
        Process& root = tree_.processes[it->second];
        if (root.ppid != tree_.collector_pid || root.shim_loaded || !root.execs.empty()) return;
        if (root.argv.empty()) root.argv = tree_.command;
        if (tree_.root_status && root.exit.kind == ExitStatus::Kind::kUnknown) {
            merge_exit(root, status_from_wait(*tree_.root_status, "collector", kRankReaper),
                       tree_.end_ns, false);
        }
    }

    // Recycled pids or a damaged trace can make processes each other's ancestors; renderers walk
    // the links from the roots, so a cycle's members would vanish from the report (or the walk
    // never end). The link out of the cycle's earliest-started member is dropped: it becomes a
    // root, as the likeliest ancestor of the others.
    void break_cycles(std::vector<size_t>& parent_of) const {
        enum : uint8_t { kUnseen, kOnPath, kDone };
        std::vector<uint8_t> state(parent_of.size(), kUnseen);
        std::vector<size_t> path;
        for (size_t start = 0; start < parent_of.size(); ++start) {
            path.clear();
            size_t i = start;
            while (i != SIZE_MAX && state[i] == kUnseen) {
                state[i] = kOnPath;
                path.push_back(i);
                i = parent_of[i];
            }
            if (i != SIZE_MAX && state[i] == kOnPath) {  // back on this walk's path: a cycle
                size_t first = i;
                for (size_t j = parent_of[i]; j != i; j = parent_of[j]) {
                    const Process& a = tree_.processes[j];
                    const Process& b = tree_.processes[first];
                    if (a.start_ns < b.start_ns || (a.start_ns == b.start_ns && j < first)) first = j;
                }
                parent_of[first] = SIZE_MAX;
            }
            for (size_t j : path) state[j] = kDone;
        }
    }

    size_t idx(const Process& p) const { return static_cast<size_t>(&p - tree_.processes.data()); }

    uint64_t rel(uint64_t t) const { return t >= tree_.t0_ns ? t - tree_.t0_ns : 0; }

    // The process a record about pid speaks of; a creation event for a pid whose last holder
    // has ended starts a new process (pids are reused).
    Process& at(pid_t pid, uint64_t t, bool creation) {
        auto it = current_.find(pid);
        if (it != current_.end()) {
            Process& p = tree_.processes[it->second];
            bool ended = p.end_ns.has_value() || p.exit.kind != ExitStatus::Kind::kUnknown;
            if (!(creation && ended)) {
                if (t < p.start_ns) p.start_ns = t;
                return p;
            }
        }
        Process p;
        p.pid = pid;
        p.start_ns = t;
        tree_.processes.push_back(std::move(p));
        size_t idx = tree_.processes.size() - 1;
        current_[pid] = idx;
        by_pid_[pid].push_back(idx);
        return tree_.processes.back();
    }

    // The sender of a shim record: the library is loaded in it.
    Process& own(const wire::RecordHeader& h, uint64_t t) {
        Process& p = at(h.pid, t, speaks_for_successor(h, t));
        p.shim_loaded = true;
        return p;
    }

    // Whether a record a process sent itself comes from a newer holder of its pid (pids are
    // reused, and the newcomer's records can be stamped before its creator's Created): a
    // ChildStart opens a process, so it cannot belong to a holder that has ended (at() checks
    // that), and nothing is sent after the holder was reaped.
    bool speaks_for_successor(const wire::RecordHeader& h, uint64_t t) const {
        auto it = current_.find(h.pid);
        if (it == current_.end()) return false;
        if (h.type == static_cast<uint16_t>(RecordType::kChildStart)) return true;
        auto reaped = reaped_ns_.find(it->second);
        return reaped != reaped_ns_.end() && t > reaped->second;
    }

    // Sequence numbers restart with each process (and each exec'd image); a number that never
    // arrived means a record was lost. (A vfork child's records and drop reports carry none.)
    void track_sequence(const wire::RecordHeader& h, Process& p) {
        if (h.flags & wire::kFromVforkChild) return;
        if (h.type == static_cast<uint16_t>(RecordType::kDropped)) return;
        SequenceSpan& span = seq_spans_[idx(p)];
        bool first_of_image = h.type == static_cast<uint16_t>(RecordType::kHello) ||
                              h.type == static_cast<uint16_t>(RecordType::kChildStart);
        if (first_of_image && h.seq == 0) {
            p.seq_gaps += span.missing();
            span = SequenceSpan{};
            span.from_zero = true;
        }
        span.lowest = std::min(span.lowest, h.seq);
        span.highest = std::max(span.highest, h.seq);
        ++span.count;
    }

    void on_trace_start(const wire::RecordHeader& h, wire::WireReader& r) {
        tree_.t0_ns = h.t_ns;
        tree_.wall_t0_ns = r.u64();
        tree_.collector_pid = r.i32();
        tree_.root_pid = r.i32();
        tree_.command = read_strings(r);
        tree_.page_size = r.u32(4096);
        tree_.kernel_release = std::string(r.str());
        tree_.host = std::string(r.str());
        r.u32();
        tree_.kernel_events = r.u8() != 0;
        tree_.kernel_events_note = std::string(r.str());
        tree_.census_mode = std::string(r.str());
        tree_.interval_ns = r.u64();
        uint64_t t_fork = r.u64(h.t_ns);
        if (tree_.root_pid > 0) {
            Process& root = at(tree_.root_pid, rel(t_fork), true);
            root.ppid = tree_.collector_pid;
            root.how = CreateHow::kFork;
            root.creation_seen_by_shim = true;
        }
    }

    void on_trace_end(wire::WireReader& r, uint64_t t) {
        tree_.complete = true;
        tree_.end_ns = t;
        int status = r.i32(-1);
        if (status != -1) tree_.root_status = status;
        tree_.shim_records = r.u64();
        tree_.rejected_records = r.u64();
        tree_.kernel_events_lost = r.u64();
        uint16_t n = r.u16();
        for (uint16_t i = 0; i < n && !r.exhausted(); ++i) leftovers_.push_back(r.i32());
        tree_.sampling_interval_ns = r.u64(tree_.interval_ns);
    }

    void on_hello(const wire::RecordHeader& h, wire::WireReader& r, uint64_t t) {
        Process& p = own(h, t);
        r.u32();
        pid_t ppid = r.i32();
        std::string execfn(r.str());
        bool truncated = false;
        std::vector<std::string> argv = read_strings(r, &truncated);
        if (p.ppid <= 0 && ppid > 0 && ppid != tree_.collector_pid) p.ppid = ppid;
        if (!p.creation_seen_by_shim) claim_unnamed_spawn(p, ppid);
        if (p.argv.empty()) p.argv = argv;

        // Every hello is a freshly exec'd image: it confirms the exec we saw attempted, or the
        // one the kernel reported, or is the first we hear of it (posix_spawn, system…).
        ExecEvent* e = nullptr;
        if (!p.execs.empty() && (!p.execs.back().resolved || awaiting_hello_.count(idx(p)))) {
            e = &p.execs.back();
        } else {
            p.execs.emplace_back();
            e = &p.execs.back();
            e->t_ns = t;
        }
        awaiting_hello_.erase(idx(p));
        e->ok = e->confirmed = e->resolved = true;
        if (!execfn.empty()) e->path = execfn;
        if (e->requested_path.empty()) e->requested_path = execfn;
        if (e->argv.empty()) {  // the argv as passed wins; a script's cmdline is its interpreter's
            e->argv = argv;
            e->argv_truncated = truncated;
        }
    }

    // system(), popen() and wordexp() never name their child: it is the next child of the same
    // parent to introduce itself, with the hello of the shell it execs.
    void claim_unnamed_spawn(Process& p, pid_t ppid) {
        pid_t parent = p.ppid > 0 ? p.ppid : ppid;
        auto announced_by_hello = [](CreateHow how) {
            return how == CreateHow::kSystem || how == CreateHow::kPopen ||
                   how == CreateHow::kWordexp;
        };
        if (SpawnBegin* b = unclaimed_begin(parent, p, announced_by_hello)) claim(*b, p, parent);
    }

    // daemon()'s child and a fork made through syscall() introduce themselves with a child
    // start of that kind (unknown for syscall(): the library only notices it is in a new
    // process) and no token: they claim their parent's begin of that kind.
    void claim_begin_of_kind(Process& c, pid_t parent, CreateHow how) {
        CreateHow kind = how == CreateHow::kUnknown ? CreateHow::kRawSyscall : how;
        auto same_kind = [kind](CreateHow h) { return h == kind; };
        if (SpawnBegin* b = unclaimed_begin(parent, c, same_kind)) claim(*b, c, parent);
    }

    template <class Accept>
    SpawnBegin* unclaimed_begin(pid_t parent, const Process& child, Accept accept) {
        auto it = unnamed_begins_.find(parent);
        if (it == unnamed_begins_.end()) return nullptr;
        // A begin of an image the parent has since replaced was never claimed (its shell never
        // said hello): a child created after the exec is not its child.
        uint64_t image_start = 0;
        if (auto p = current_.find(parent); p != current_.end()) {
            for (const auto& e : tree_.processes[p->second].execs) {
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

    void claim(SpawnBegin& b, Process& p, pid_t parent) {
        b.used = true;
        b.child = idx(p);
        p.how = b.how;
        p.call_site = b.frames;
        p.creation_seen_by_shim = true;
        if (p.ppid <= 0) p.ppid = parent;
    }

    void on_created(const wire::RecordHeader& h, wire::WireReader& r, uint64_t t) {
        own(h, t);
        auto how = static_cast<CreateHow>(r.u8());
        pid_t child = r.i32();
        int error = r.i32();
        r.u64();
        std::vector<uint64_t> frames = read_frames(r);
        SpawnInfo spawn;
        spawn.path = std::string(r.str());
        spawn.image_flags = r.u32();
        spawn.argv = read_strings(r);
        if (child <= 0) {
            if (is_spawn(how)) claim_failed_spawn_child(h, how, error, spawn, frames, t);
            return;
        }
        Process& c = child_named_by_creator(child, h.pid, t);
        c.ppid = h.pid;
        c.how = how;
        c.call_site = std::move(frames);
        c.creation_seen_by_shim = true;
        if (is_spawn(how)) spawn_info_[idx(c)] = std::move(spawn);
    }

    static bool is_spawn(CreateHow how) {
        return how == CreateHow::kPosixSpawn || how == CreateHow::kPosixSpawnp ||
               how == CreateHow::kPidfdSpawn;
    }

    // A posix_spawn whose exec fails still made a child: glibc's helper ran on the caller's
    // memory, failed to exec, _exited 127 and was reaped inside posix_spawn, which returns the
    // error and never the pid. Only the kernel saw that process (found by the hostile-host
    // tests: it was booked as "created by an untraced mechanism"). It is the latest child the
    // same thread created (the kernel names the forking thread) that no library record speaks
    // for; it gets its creator's call site and the failed exec.
    void claim_failed_spawn_child(const wire::RecordHeader& h, CreateHow how, int error,
                                  const SpawnInfo& spawn, const std::vector<uint64_t>& frames,
                                  uint64_t t) {
        auto it = kernel_children_of_thread_.find(h.tid);
        if (it == kernel_children_of_thread_.end()) return;
        for (auto c = it->second.rbegin(); c != it->second.rend(); ++c) {
            Process& p = tree_.processes[*c];
            if (p.ppid != h.pid || p.creation_seen_by_shim || p.shim_loaded || p.start_ns > t) {
                continue;
            }
            p.how = how;
            p.call_site = frames;
            p.creation_seen_by_shim = true;
            ExecEvent e;
            e.t_ns = p.start_ns;
            e.path = e.requested_path = spawn.path;
            e.argv = spawn.argv;
            e.image_flags = spawn.image_flags;
            e.error = error;
            e.resolved = true;  // ok stays false
            p.execs.push_back(std::move(e));
            it->second.erase(std::next(c).base());
            return;
        }
    }

    // The creator reports a child after fork returns, and the child may have run to its end by
    // then. The report still names that process, not a new one that recycled its pid: a child
    // whose creator has not reported it yet is the one.
    Process& child_named_by_creator(pid_t child, pid_t creator, uint64_t t) {
        auto it = current_.find(child);
        if (it != current_.end() && !named_by_creator_.count(it->second) &&
            tree_.processes[it->second].ppid == creator) {
            named_by_creator_.insert(it->second);
            return tree_.processes[it->second];
        }
        Process& c = at(child, t, true);
        named_by_creator_.insert(idx(c));
        return c;
    }

    void on_child_start(const wire::RecordHeader& h, wire::WireReader& r, uint64_t t) {
        auto how = static_cast<CreateHow>(r.u8());
        pid_t parent = r.i32();
        uint32_t token = r.u32();
        Process& c = own(h, t);
        if (c.ppid <= 0 && parent > 0) c.ppid = parent;
        if (c.how == CreateHow::kUnknown) c.how = how;
        if (how != CreateHow::kUnknown) c.creation_seen_by_shim = true;
        if (token != 0) {
            auto it = unnamed_begins_.find(parent);
            if (it != unnamed_begins_.end()) {
                for (auto& b : it->second) {
                    if (b.token != token) continue;
                    b.used = true;
                    if (c.call_site.empty()) c.call_site = b.frames;
                    if (b.t_ns < c.start_ns) c.start_ns = b.t_ns;
                    break;
                }
            }
        } else if (parent > 0) {
            claim_begin_of_kind(c, parent, how);
        }
    }

    void on_spawn_begin(const wire::RecordHeader& h, wire::WireReader& r, uint64_t t) {
        own(h, t);
        SpawnBegin b;
        b.t_ns = t;
        b.tid = h.tid;
        b.how = static_cast<CreateHow>(r.u8());
        b.token = r.u32();
        b.frames = read_frames(r);
        unnamed_begins_[h.pid].push_back(std::move(b));
    }

    void on_exec_attempt(const wire::RecordHeader& h, wire::WireReader& r, uint64_t t) {
        Process& p = own(h, t);
        ExecEvent e;
        e.t_ns = t;
        e.requested_path = std::string(r.str());
        std::string resolved(r.str());
        e.path = resolved.empty() ? e.requested_path : resolved;
        e.image_flags = r.u32();
        e.argv = read_strings(r, &e.argv_truncated);
        e.env_reinjected = r.u8() != 0;
        // An earlier attempt still open was cut short (its failure record was lost).
        if (!p.execs.empty() && !p.execs.back().resolved) p.execs.back().resolved = true;
        awaiting_hello_.erase(idx(p));
        p.execs.push_back(std::move(e));
    }

    void on_exec_failed(const wire::RecordHeader& h, wire::WireReader& r) {
        Process& p = own(h, rel(h.t_ns));
        int err = r.i32();
        if (p.execs.empty() || p.execs.back().resolved) return;
        p.execs.back().ok = false;
        p.execs.back().error = err;
        p.execs.back().resolved = true;
    }

    void on_kernel_exec(const wire::RecordHeader& h, uint64_t t) {
        Process& p = at(h.pid, t, false);
        if (!p.execs.empty() && !p.execs.back().resolved) {
            ExecEvent& e = p.execs.back();
            e.ok = e.confirmed = e.resolved = true;
        } else {
            ExecEvent e;
            e.t_ns = t;
            e.ok = e.confirmed = e.resolved = true;
            p.execs.push_back(std::move(e));
        }
        awaiting_hello_.insert(idx(p));
    }

    void on_kernel_fork(const wire::RecordHeader& h, wire::WireReader& r, uint64_t t) {
        pid_t parent = r.i32();
        pid_t parent_thread = r.i32();
        Process& c = at(h.pid, t, true);
        c.creation_seen_by_kernel = true;
        if (c.ppid <= 0) c.ppid = parent;
        if (parent_thread > 0) kernel_children_of_thread_[parent_thread].push_back(idx(c));
    }

    void on_exit(const wire::RecordHeader& h, wire::WireReader& r, uint64_t t) {
        Process& p = own(h, t);
        auto how = static_cast<wire::ExitHow>(r.u8());
        int code = r.i32();
        ExitStatus s;
        s.source = "self";
        s.rank = kRankSelf;
        if (how == wire::ExitHow::kAbort) {
            s.kind = ExitStatus::Kind::kSignal;
            s.signal = SIGABRT;
        } else {
            s.kind = ExitStatus::Kind::kCode;
            s.code = code & 0xff;
        }
        if (h.flags & wire::kFromVforkChild) s.rank = kRankSelf;
        merge_exit(p, s, t, false);
    }

    void on_wait_reaped(const wire::RecordHeader& h, wire::WireReader& r, uint64_t t) {
        auto call = static_cast<wire::WaitCall>(r.u8());
        pid_t child = r.i32();
        int status = r.i32();
        if (child <= 0) {
            reap_unnamed_child(h, call, status, t);
            return;
        }
        set_exit(child, status_from_wait(status, "parent", kRankReaper), t);
    }

    // system() and pclose() return the status of a child whose pid the caller never learns: it
    // is the child that claimed the matching begin. system() runs on its caller's thread from
    // begin to status; pclose() is matched only while one popen child awaits its status, as
    // streams may be closed in any order.
    void reap_unnamed_child(const wire::RecordHeader& h, wire::WaitCall call, int status,
                            uint64_t t) {
        auto it = unnamed_begins_.find(h.pid);
        if (it == unnamed_begins_.end()) return;
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
        if (match == nullptr || match->reaped) return;
        match->reaped = true;
        if (match->child == SIZE_MAX) return;
        merge_exit(tree_.processes[match->child], status_from_wait(status, "parent", kRankReaper),
                   t, false);
    }

    void on_kernel_exit(const wire::RecordHeader& h, wire::WireReader& r, uint64_t t) {
        set_exit(h.pid, status_from_wait(r.i32(), "kernel", kRankKernel), t, true);
        Process& p = tree_.processes[current_.at(h.pid)];
        if (!p.execs.empty() && !p.execs.back().resolved) exec_open_at_kernel_exit_.insert(idx(p));
    }

    // Census records are the collector's; pid is the episode's child.
    void on_episode_start(const wire::RecordHeader& h, wire::WireReader& r, uint64_t t) {
        ForkEpisode e;
        e.child = h.pid;
        e.parent = r.i32();
        e.t_ns = rel(r.u64(h.t_ns));
        e.mode = std::string(r.str());
        e.split_known = r.u8() != 0;
        e.shared_bytes_at_fork = r.u64();
        e.zero_page_bytes_at_fork = r.u64();
        e.thp_bytes_at_fork = r.u64();
        e.ksm_bytes_at_fork = r.u64();
        e.approximations = read_strings(r);
        Process& c = at(h.pid, t, false);
        e.child_index = idx(c);
        if (e.t_ns < c.start_ns) c.start_ns = e.t_ns;
        open_episode_[h.pid] = tree_.episodes.size();
        tree_.episodes.push_back(std::move(e));
    }

    ForkEpisode* episode_of(pid_t child) {
        auto it = open_episode_.find(child);
        return it == open_episode_.end() ? nullptr : &tree_.episodes[it->second];
    }

    void on_episode_sample(const wire::RecordHeader& h, wire::WireReader& r, uint64_t t) {
        ForkEpisode* e = episode_of(h.pid);
        if (e == nullptr) return;
        CowSample s;
        s.t_ns = t;
        s.shared_bytes = r.u64();
        s.copied_bytes = r.u64();
        s.copied_by_parent_bytes = r.u64();
        s.copied_by_child_bytes = r.u64();
        s.retained_bytes = r.u64();
        s.child_new_bytes = r.u64();
        e->census_cost_ns += r.u64();
        e->copied_bytes_peak = std::max(e->copied_bytes_peak, s.copied_bytes);
        e->copied_bytes_final = s.copied_bytes;
        e->copied_by_parent_bytes = s.copied_by_parent_bytes;
        e->copied_by_child_bytes = s.copied_by_child_bytes;
        e->retained_bytes_final = s.retained_bytes;
        e->child_new_bytes_final = s.child_new_bytes;
        e->samples.push_back(s);
    }

    void on_episode_regions(const wire::RecordHeader& h, wire::WireReader& r) {
        ForkEpisode* e = episode_of(h.pid);
        if (e == nullptr) return;
        uint32_t n = r.u32();
        for (uint32_t i = 0; i < n && !r.exhausted(); ++i) {
            std::string name(r.str());
            uint64_t shared = r.u64(), copied = r.u64(), by_parent = r.u64(), by_child = r.u64();
            if (r.exhausted()) break;
            auto it = std::find_if(e->regions.begin(), e->regions.end(),
                                   [&](const CowRegion& x) { return x.name == name; });
            if (it == e->regions.end()) {
                e->regions.push_back(CowRegion{name, shared, 0, 0, 0, 0});
                it = e->regions.end() - 1;
            }
            it->shared_bytes_at_fork = shared;
            it->copied_bytes_final = copied;
            it->copied_bytes_peak = std::max(it->copied_bytes_peak, copied);
            it->copied_by_parent_bytes = by_parent;
            it->copied_by_child_bytes = by_child;
        }
    }

    void on_episode_end(const wire::RecordHeader& h, wire::WireReader& r, uint64_t t) {
        ForkEpisode* e = episode_of(h.pid);
        if (e == nullptr) return;
        auto end = static_cast<wire::EpisodeEnd>(r.u8());
        e->end = end == wire::EpisodeEnd::kExit   ? ForkEpisode::End::kExit
                 : end == wire::EpisodeEnd::kExec ? ForkEpisode::End::kExec
                                                  : ForkEpisode::End::kRunning;
        if (e->end != ForkEpisode::End::kRunning) e->end_ns = t;
        open_episode_.erase(h.pid);
    }

    void on_memory_sample(const wire::RecordHeader& h, wire::WireReader& r, uint64_t t) {
        Process& p = at(h.pid, t, false);
        MemorySample m;
        m.t_ns = t;
        m.rss_bytes = r.u64();
        m.pss_bytes = r.u64();
        m.private_dirty_bytes = r.u64();
        m.shared_dirty_bytes = r.u64();
        m.anonymous_bytes = r.u64();
        m.swap_bytes = r.u64();
        p.memory.push_back(m);
    }

    void set_exit(pid_t pid, const ExitStatus& s, uint64_t t, bool exact_time = false) {
        auto it = current_.find(pid);
        if (it == current_.end()) {
            at(pid, t, false);
            it = current_.find(pid);
        }
        // Every status set here is the kernel's or a reaper's: an exit or a death means the
        // process was gone by t.
        if (s.kind != ExitStatus::Kind::kUnknown) {
            auto [reaped, fresh] = reaped_ns_.try_emplace(it->second, t);
            if (!fresh && t < reaped->second) reaped->second = t;
        }
        merge_exit(tree_.processes[it->second], s, t, exact_time);
    }

    void merge_exit(Process& p, const ExitStatus& s, uint64_t t, bool exact_time) {
        if (s.rank >= p.exit.rank && s.kind != ExitStatus::Kind::kUnknown) p.exit = s;
        if (exact_time || !p.end_ns) {
            if (!p.end_ns || exact_time || t < *p.end_ns) p.end_ns = t;
        }
    }

    ProcessTree& tree_;
    std::unordered_map<pid_t, size_t> current_;
    std::unordered_map<pid_t, std::vector<size_t>> by_pid_;
    std::unordered_map<pid_t, std::vector<SpawnBegin>> unnamed_begins_;
    // Keyed by index into tree_.processes (the vector grows; pointers would not last).
    std::unordered_map<size_t, SequenceSpan> seq_spans_;
    std::unordered_set<size_t> named_by_creator_;  // children their creator's record named
    std::unordered_set<size_t> exec_open_at_kernel_exit_;
    std::unordered_map<size_t, SpawnInfo> spawn_info_;
    // Processes the kernel saw created, by the thread that created them (failed spawns).
    std::unordered_map<pid_t, std::vector<size_t>> kernel_children_of_thread_;
    std::unordered_map<size_t, uint64_t> reaped_ns_;  // when the kernel or a reaper saw it gone
    std::unordered_set<size_t> awaiting_hello_;
    std::vector<pid_t> leftovers_;
    std::unordered_map<pid_t, size_t> open_episode_;  // child pid → index in tree_.episodes
    uint64_t last_t_ = 0;  // the latest record, since the trace started
};

}  // namespace

void build_process_tree_from(std::vector<RawRecord> records, ProcessTree& tree) {
    // Records from different processes reach the collector in any order; their clocks agree
    // (CLOCK_MONOTONIC), so time order is causal order. The trace start comes first regardless.
    std::stable_sort(records.begin(), records.end(), [](const RawRecord& a, const RawRecord& b) {
        bool sa = a.header.type == static_cast<uint16_t>(RecordType::kTraceStart);
        bool sb = b.header.type == static_cast<uint16_t>(RecordType::kTraceStart);
        if (sa != sb) return sa;
        return a.header.t_ns < b.header.t_ns;
    });
    tree.processes.reserve(records.size() + 16);
    Builder b(tree);
    for (const auto& r : records) b.add(r);
    b.finalize();
}

namespace {

// What the trace itself cannot say about its own loss: when the collector stopped, what the
// library spooled meanwhile, how many records never arrived anywhere.
void note_losses(ProcessTree& tree, const std::vector<RawRecord>& records,
                 const std::vector<std::string>& spools) {
    uint64_t last_collector_ns = 0, spooled = 0, spooled_after = 0;
    for (const auto& r : records) {
        if (r.header.flags & wire::kFromSpool) continue;
        last_collector_ns = std::max(last_collector_ns, r.header.t_ns);
    }
    for (const auto& r : records) {
        if (!(r.header.flags & wire::kFromSpool)) continue;
        ++spooled;
        if (r.header.t_ns > last_collector_ns) ++spooled_after;
    }
    uint64_t gaps = 0;
    for (const auto& p : tree.processes) gaps += p.seq_gaps;
    auto note = [&tree](uint64_t t, std::string text) {
        tree.notes.push_back(TraceNote{t, 2, std::move(text)});
    };
    uint64_t lost_at = last_collector_ns > tree.t0_ns ? last_collector_ns - tree.t0_ns : 0;
    if (!tree.complete && tree.t0_ns != 0) {
        std::string text = "collector lost at t=" + std::to_string(lost_at / 1000000) +
                           " ms: the trace has no end record";
        if (spooled_after) {
            text += "; " + std::to_string(spooled_after) + " later records recovered from " +
                    (spools.empty() ? std::string("the spool") : spools.front());
        }
        note(lost_at, text);
    } else if (spooled && !spools.empty()) {
        note(lost_at, std::to_string(spooled) + " records read from " + spools.front());
    }
    if (tree.dropped_records + gaps > 0) {
        note(lost_at, std::to_string(tree.dropped_records + gaps) +
                          " records were lost (neither delivered nor spooled): figures for the "
                          "processes marked records_missing are incomplete");
    }
}

bool is_spool_path(const std::string& p) {
    return p.size() > 6 && p.compare(p.size() - 6, 6, ".spool") == 0;
}

}  // namespace

bool build_process_tree(const std::vector<std::string>& given, ProcessTree& tree,
                        std::string& error) {
    // `cowtrace run -o T` has the library spool to T.spool when the collector stalls or dies:
    // read it with T even when not named.
    std::vector<std::string> paths = given;
    std::vector<std::string> spools;
    std::vector<std::string> ignored;
    for (const auto& p : given) {
        if (is_spool_path(p)) spools.push_back(p);
    }
    for (const auto& p : given) {
        std::string companion = p + ".spool";
        if (is_spool_path(p) || std::find(paths.begin(), paths.end(), companion) != paths.end()) {
            continue;
        }
        if (access(companion.c_str(), R_OK) != 0) continue;
        // Only a spool of the trace's owner is read with it: in a shared directory somebody
        // else could leave one there.
        struct stat trace_st{}, spool_st{};
        if (stat(p.c_str(), &trace_st) == 0 && lstat(companion.c_str(), &spool_st) == 0 &&
            (!S_ISREG(spool_st.st_mode) || spool_st.st_uid != trace_st.st_uid)) {
            ignored.push_back(companion + " was not read: it is not a file of the trace's owner (uid " +
                              std::to_string(trace_st.st_uid) + ")");
            continue;
        }
        paths.push_back(companion);
        spools.push_back(companion);
    }
    std::vector<std::unique_ptr<TraceReader>> readers;
    std::vector<RawRecord> records;
    for (const auto& path : paths) {
        auto reader = std::make_unique<TraceReader>();
        if (!reader->open(path)) {
            error = reader->error();
            return false;
        }
        RawRecord rec;
        while (reader->next(rec)) records.push_back(rec);
        if (!reader->error().empty()) {
            if (!tree.reader_error.empty()) tree.reader_error += "; ";
            tree.reader_error += path + ": " + reader->error();
        }
        readers.push_back(std::move(reader));
    }
    std::vector<RawRecord> copy = records;
    build_process_tree_from(std::move(records), tree);
    note_losses(tree, copy, spools);
    for (auto& text : ignored) tree.notes.push_back(TraceNote{0, 2, std::move(text)});
    // The records point into the readers' mappings, which end here: nothing above keeps them.
    return true;
}

}  // namespace cowtrace::model

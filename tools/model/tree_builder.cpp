#include "tree_builder.hpp"

#include <algorithm>

#include "build_context.hpp"
#include "creation_matching.hpp"
#include "episode_builder.hpp"
#include "exec_history.hpp"
#include "exit_merging.hpp"
#include "parent_links.hpp"
#include "sequence_tracking.hpp"
#include "wire/collector_records.hpp"
#include "wire/shim_records.hpp"

namespace cowtrace::model {

namespace {

using wire::RecordType;

// Turns records, in time order, into the tree: each record type goes to the part of the builder
// that owns its concern.
class TreeBuilder {
public:
    explicit TreeBuilder(ProcessTree& tree)
        : ctx_(tree),
          creations_(ctx_),
          execs_(ctx_),
          exits_(ctx_, creations_, execs_),
          episodes_(ctx_) {}

    void add(const RawRecord& rec) {
        const wire::RecordHeader& h = rec.header;
        uint64_t t = ctx_.rel(h.t_ns);
        last_t_ = std::max(last_t_, t);
        if (wire::is_shim_record(h.type)) {
            Process& sender = ctx_.index.sender(h, t);
            sequences_.track(h, ctx_.index.index_of(sender), sender);
        }
        switch (static_cast<RecordType>(h.type)) {
            case RecordType::kTraceStart:
                on_trace_start(h, decoded<wire::TraceStart>(rec));
                break;
            case RecordType::kTraceEnd:
                on_trace_end(decoded<wire::TraceEnd>(rec), t);
                break;
            case RecordType::kCollectorNote:
                on_note(decoded<wire::CollectorNote>(rec), t);
                break;
            case RecordType::kHello:
                on_hello(h, decoded<wire::Hello>(rec), t);
                break;
            case RecordType::kProcessCarried:
                on_carried(h, decoded<wire::ProcessCarried>(rec), t);
                break;
            case RecordType::kCreated:
                creations_.on_created(h, decoded<wire::Created>(rec), t);
                break;
            case RecordType::kChildStart:
                creations_.on_child_start(h, decoded<wire::ChildStart>(rec), t);
                break;
            case RecordType::kSpawnBegin:
                creations_.on_spawn_begin(h, decoded<wire::SpawnBegin>(rec), t);
                break;
            case RecordType::kKernelFork:
                creations_.on_kernel_fork(h, decoded<wire::KernelFork>(rec), t);
                break;
            case RecordType::kExecAttempt:
                execs_.on_exec_attempt(h, decoded<wire::ExecAttempt>(rec), t);
                break;
            case RecordType::kExecFailed:
                execs_.on_exec_failed(h, decoded<wire::ExecFailed>(rec));
                break;
            case RecordType::kKernelExec:
                execs_.on_kernel_exec(h, decoded<wire::KernelExec>(rec), t);
                break;
            case RecordType::kImageFacts: {
                auto facts = decoded<wire::ImageFacts>(rec);
                if (!execs_.on_image_facts(h, facts)) creations_.on_image_facts(h, facts);
                break;
            }
            case RecordType::kExit:
                exits_.on_exit(h, decoded<wire::Exit>(rec), t);
                break;
            case RecordType::kWaitReaped:
                exits_.on_wait_reaped(h, decoded<wire::WaitReaped>(rec), t);
                break;
            case RecordType::kSubreaperReaped:
                exits_.on_subreaper_reaped(h, decoded<wire::SubreaperReaped>(rec), t);
                break;
            case RecordType::kKernelExit:
                exits_.on_kernel_exit(h, decoded<wire::KernelExit>(rec), t);
                break;
            case RecordType::kDropped: {
                uint64_t n = decoded<wire::Dropped>(rec).count;
                ctx_.index.sender(h, t).add_dropped_records(n);
                ctx_.tree.dropped_records += n;
                break;
            }
            case RecordType::kDlopenDeepbind:
                ctx_.index.sender(h, t).deepbind = true;
                break;
            case RecordType::kEpisodeStart:
                episodes_.on_start(h, decoded<wire::EpisodeStart>(rec), t);
                break;
            case RecordType::kEpisodeSample:
                episodes_.on_sample(h, decoded<wire::EpisodeSample>(rec), t);
                break;
            case RecordType::kEpisodeRegions:
                episodes_.on_regions(h, decoded<wire::EpisodeRegions>(rec));
                break;
            case RecordType::kEpisodeEnd:
                episodes_.on_end(h, decoded<wire::EpisodeEnd>(rec), t);
                break;
            case RecordType::kCopyPath:
                episodes_.on_copy_path(h, decoded<wire::CopyPath>(rec));
                break;
            case RecordType::kCopyAttribution:
                episodes_.on_copy_attribution(h, decoded<wire::CopyAttribution>(rec));
                break;
            case RecordType::kMemorySample:
                on_memory_sample(h, decoded<wire::MemorySample>(rec), t);
                break;
            case RecordType::kSymbol: {
                auto symbol = decoded<wire::Symbol>(rec);
                std::pair<pid_t, uint64_t> key{symbol.pid, symbol.address};
                ctx_.tree.symbols[key] = symbol.name.view();
                std::vector<std::string> inlined_into;
                symbol.inlined_into.for_each(
                    [&](std::string_view f) { inlined_into.emplace_back(f); });
                if (inlined_into.empty())
                    ctx_.tree.symbols_inlined_into.erase(key);
                else
                    ctx_.tree.symbols_inlined_into[key] = std::move(inlined_into);
                break;
            }
            default:
                break;  // unknown, or nothing the tree needs (census requests): skipped
        }
    }

    void finalize() {
        ProcessTree& tree = ctx_.tree;
        // A trace cut short has no end record: it lasted at least until its last record.
        if (!tree.complete) tree.end_ns = std::max(tree.end_ns, last_t_);
        name_command_that_did_not_start();
        sequences_.finalize(tree);
        execs_.finalize();
        creations_.finalize();
        episodes_.add_short_lived_episodes();
        // `cowtrace run` ends a complete trace with the list of the processes still alive (it
        // waits for all of them unless told not to): an ended process whose end nobody saw
        // (reaped through a RTLD_DEEPBIND plugin's waitpid, without the kernel's witness) is
        // not running. Without that list (record mode, a lost collector) a process with no
        // known end may be.
        bool alive_listed = tree.complete && tree.root_pid > 0;
        for (Process& p : tree.processes) {
            if (!alive_listed && !p.end_ns() && p.exit.kind == ExitStatus::Kind::kUnknown) {
                p.still_running = true;
            }
        }
        for (pid_t pid : leftovers_) {
            if (auto i = ctx_.index.current(pid)) tree.processes[*i].still_running = true;
        }
        link_parents(tree, ctx_.index);
        keep_memory_samples();
        size_t execs = 0;
        for (const std::vector<ExecEvent>& of_one : ctx_.execs) execs += of_one.size();
        tree.process_execs.reserve(execs);
        for (size_t i = 0; i < ctx_.execs.size(); ++i)
            tree.processes[i].execs = tree.process_execs.keep(ctx_.execs[i]);
        ctx_.execs = {};
        tree.episode_samples.shrink_to_fit();
        tree.episode_regions.shrink_to_fit();
        tree.episode_attributions.shrink_to_fit();
    }

private:
    // A command `cowtrace run` could not start (exec failed in the collector's child) has no
    // record of its own: it is the command the trace names, and it ended as the end record says.
    void name_command_that_did_not_start() {
        ProcessTree& tree = ctx_.tree;
        if (tree.root_pid <= 0) return;
        std::optional<size_t> index = ctx_.index.current(tree.root_pid);
        if (!index) return;
        Process& root = tree.processes[*index];
        if (root.ppid != tree.collector_pid || root.shim_loaded || !ctx_.execs_of(*index).empty())
            return;
        if (root.argv.empty()) root.argv = ctx_.command_lines.intern(tree.command);
        if (tree.root_status && root.exit.kind == ExitStatus::Kind::kUnknown) {
            root.exit = status_from_wait(*tree.root_status, ExitSource::kCollector);
            if (!root.end_ns()) root.set_end_ns(tree.end_ns);
        }
    }

    // A record's fields; whatever a damaged payload lacks keeps its default.
    template <class R>
    static R decoded(const RawRecord& rec) {
        R out;
        decode(rec, out);
        return out;
    }

    void on_trace_start(const wire::RecordHeader& h, const wire::TraceStart& start) {
        ProcessTree& tree = ctx_.tree;
        tree.t0_ns = h.t_ns;
        tree.wall_t0_ns = start.wall_t0_ns;
        tree.collector_pid = start.collector_pid;
        tree.root_pid = start.root_pid;
        start.command.for_each([&](std::string_view a) { tree.command.emplace_back(a); });
        tree.page_size = start.page_size;
        tree.kernel_release = start.kernel_release.view();
        tree.host = start.host.view();
        tree.kernel_events = start.kernel_events;
        tree.kernel_events_note = start.kernel_events_note.view();
        tree.census_mode = census_mode_from(start.census_mode.view());
        tree.interval_ns = start.interval_ns;
        tree.fork_children_measured_from_outside = start.features & wire::kFeatureOutsideBaseline;
        tree.attached = start.features & wire::kFeatureAttached;
        if (tree.root_pid > 0) {
            uint64_t t_fork = start.root_fork_ns != 0 ? start.root_fork_ns : h.t_ns;
            Process& root = ctx_.index.at(tree.root_pid, ctx_.rel(t_fork), true);
            root.ppid = tree.collector_pid;
            root.how = wire::CreateHow::kFork;
            root.creation_seen_by_shim = true;
        }
    }

    void on_trace_end(const wire::TraceEnd& end, uint64_t t) {
        ProcessTree& tree = ctx_.tree;
        tree.complete = true;
        tree.end_ns = t;
        if (end.root_status != -1) tree.root_status = end.root_status;
        tree.shim_records = end.library_records;
        tree.rejected_records = end.rejected_records;
        tree.kernel_events_lost = end.kernel_events_lost;
        end.still_running.for_each([&](int32_t pid) { leftovers_.push_back(pid); });
        tree.sampling_interval_ns =
            end.longest_interval_ns != 0 ? end.longest_interval_ns : tree.interval_ns;
    }

    void on_note(const wire::CollectorNote& note, uint64_t t) {
        TraceNote n;
        n.t_ns = t;
        n.severity = static_cast<int>(note.severity);
        n.text = note.text.view();
        ctx_.tree.notes.push_back(std::move(n));
    }

    void on_hello(const wire::RecordHeader& h, const wire::Hello& hello, uint64_t t) {
        Process& p = ctx_.index.sender(h, t);
        if (p.ppid <= 0 && hello.ppid > 0 && hello.ppid != ctx_.tree.collector_pid) {
            p.ppid = hello.ppid;
        }
        if (!p.creation_seen_by_shim) creations_.claim_unnamed_spawn(p, hello.ppid);
        if (p.argv.empty()) p.argv = ctx_.command_lines.intern(hello.argv);
        execs_.on_hello(p, hello, t);
    }

    // A process the file before this one (rotation) knew: as it stood when this file began.
    void on_carried(const wire::RecordHeader& h, const wire::ProcessCarried& c, uint64_t t) {
        Process& p = ctx_.index.at(h.pid, t, true);
        p.carried_over = true;
        if (c.creator > 0) p.ppid = c.creator;
        p.how = c.how;
        p.start_ns = c.start_t_ns ? ctx_.rel(c.start_t_ns) : 0;
        // Its creation is in a file before; the library saw it there unless it only said hello.
        p.creation_seen_by_shim = p.creation_seen_by_shim || c.how != wire::CreateHow::kUnknown;
        std::vector<uint64_t> frames(p.call_site.begin(), p.call_site.end());
        c.call_site.for_each([&](uint64_t ip) { frames.push_back(ip); });
        p.call_site = ctx_.call_sites.intern(frames);
        p.shim_loaded = p.shim_loaded || c.library_loaded;
        CommandLine argv = ctx_.command_lines.intern(c.argv);
        if (p.argv.empty()) p.argv = argv;
        if (!c.execfn.empty()) {
            // Its own image, exec'd before this file: named from it, not from its creator.
            ExecEvent e;
            e.t_ns = p.start_ns;
            e.path = ExecPath::interned(c.execfn.view(), ctx_.command_lines);
            e.argv = argv;
            e.ok = e.confirmed = e.resolved = true;
            ctx_.execs_of(p).push_back(std::move(e));
        }
    }

    void on_memory_sample(const wire::RecordHeader& h, const wire::MemorySample& m, uint64_t t) {
        Process& p = ctx_.index.at(h.pid, t, false);
        MemorySample s;
        s.t_ns = t;
        s.rss_bytes = m.rss_bytes;
        s.pss_bytes = m.pss_bytes;
        s.private_dirty_bytes = m.private_dirty_bytes;
        s.shared_dirty_bytes = m.shared_dirty_bytes;
        s.anonymous_bytes = m.anonymous_bytes;
        s.swap_bytes = m.swap_bytes;
        memory_.emplace_back(ctx_.index.index_of(p), s);
    }

    // Each process's samples, in the order they came (time order), as one list of the tree.
    void keep_memory_samples() {
        std::stable_sort(memory_.begin(), memory_.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        ctx_.tree.process_memory.reserve(memory_.size());
        std::vector<MemorySample> samples;
        for (size_t i = 0; i < memory_.size();) {
            size_t process = memory_[i].first;
            samples.clear();
            for (; i < memory_.size() && memory_[i].first == process; ++i)
                samples.push_back(memory_[i].second);
            ctx_.tree.processes[process].memory = ctx_.tree.process_memory.keep(samples);
        }
        memory_ = {};
    }

    BuildContext ctx_;
    SequenceTracker sequences_;
    CreationMatcher creations_;
    ExecHistory execs_;
    ExitMerger exits_;
    EpisodeBuilder episodes_;
    std::vector<pid_t> leftovers_;
    std::vector<std::pair<size_t, MemorySample>> memory_;  // (process index, sample), until the end
    uint64_t last_t_ = 0;  // the latest record, since the trace started
};

}  // namespace

void build_process_tree_from(TimeOrderedRecords& records, ProcessTree& tree) {
    records.sort();
    tree.processes.reserve(records.size() + 16);
    // A fork episode is a few hundred bytes: grown by doubling, 100,000 of them were moved about
    // twice over (9 % of a JSON report's time).
    tree.episodes.reserve(records.episodes());
    TreeBuilder builder(tree);
    for (size_t i = 0; i < records.size(); ++i) builder.add(records.at(i));
    builder.finalize();
}

void build_process_tree_from(std::vector<RawRecord> records, ProcessTree& tree) {
    TimeOrderedRecords ordered;
    ordered.reserve(records.size());
    for (const RawRecord& rec : records) ordered.add_copy(rec);
    build_process_tree_from(ordered, tree);
}

}  // namespace cowtrace::model

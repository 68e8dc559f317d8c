// Report models built in code, for renderer and budget tests that need exact figures.
#pragma once

#include <string>
#include <vector>

#include "model/process_tree.hpp"

namespace cowtrace::report::testing {

inline constexpr uint64_t kMiB = 1024 * 1024;
inline constexpr uint64_t kMs = 1'000'000;
inline constexpr pid_t kCollector = 900;

class TreeFixture {
public:
    TreeFixture() {
        tree.collector_pid = kCollector;
        tree.census_mode = model::CensusMode::kExact;
        tree.complete = true;
        tree.kernel_events = true;
        tree.end_ns = 2000 * kMs;
    }

    // The traced command (created by the collector).
    size_t root(pid_t pid, std::vector<std::string> argv, uint64_t end_ns = 1900 * kMs) {
        tree.root_pid = pid;
        tree.command = argv;
        size_t i = add(pid, kCollector, 0, end_ns);
        tree.processes[i].argv = std::move(argv);
        return i;
    }

    size_t child(size_t parent, pid_t pid, uint64_t start_ns, std::optional<uint64_t> end_ns,
                 std::vector<uint64_t> call_site = {0x1000, 0x2000},
                 wire::CreateHow how = wire::CreateHow::kFork) {
        size_t i = add(pid, tree.processes[parent].pid, start_ns, end_ns);
        model::Process& p = tree.processes[i];
        p.how = how;
        p.call_site = std::move(call_site);
        add_child(parent, i);
        return i;
    }

    // One more child in parent's list (the build makes each list once, in the tree's arena).
    void add_child(size_t parent, size_t child) {
        model::Process& p = tree.processes[parent];
        std::span<const uint32_t> kept = tree.children_of(p);
        std::vector<uint32_t> children(kept.begin(), kept.end());
        children.push_back(static_cast<uint32_t>(child));
        p.children = tree.process_children.keep(children);
    }

    model::ForkEpisode& episode(size_t child_index, uint64_t shared, uint64_t copied_peak,
                                uint64_t copied_final) {
        const model::Process& c = tree.processes[child_index];
        model::ForkEpisode e;
        e.child = c.pid;
        e.parent = c.ppid;
        e.child_index = child_index;
        e.t_ns = c.start_ns;
        e.set_end_ns(c.end_ns());
        e.end = c.end_ns() ? model::ForkEpisode::End::kExit : model::ForkEpisode::End::kRunning;
        e.mode = model::CensusMode::kExact;
        e.split_known = true;
        e.shared_bytes_at_fork = shared;
        e.copied_bytes_peak = copied_peak;
        uint64_t end = c.end_ns().value_or(tree.end_ns);
        // The last sample's figures are the final ones.
        e.samples = tree.episode_samples.keep(
            {{c.start_ns + (end - c.start_ns) / 2, shared - copied_peak, copied_peak, 0, 0, 0, 0},
             {end, shared - copied_final, copied_final, copied_final / 4,
              copied_final - copied_final / 4, 0, 0}});
        tree.episodes.push_back(std::move(e));
        return tree.episodes.back();
    }

    // One more exec in the process's list (the build makes each list once, in the tree's arena).
    void exec(size_t index, const model::ExecEvent& e) {
        model::Process& p = tree.processes[index];
        std::span<const model::ExecEvent> kept = tree.execs_of(p);
        std::vector<model::ExecEvent> execs(kept.begin(), kept.end());
        execs.push_back(e);
        p.execs = tree.process_execs.keep(execs);
    }

    void memory(size_t index, uint64_t t_ns, uint64_t rss, uint64_t pss) {
        model::MemorySample m;
        m.t_ns = t_ns;
        m.rss_bytes = rss;
        m.pss_bytes = pss;
        model::Process& p = tree.processes[index];
        std::span<const model::MemorySample> kept = tree.memory_of(p);
        std::vector<model::MemorySample> memory(kept.begin(), kept.end());
        memory.push_back(m);
        p.memory = tree.process_memory.keep(memory);
    }

    model::ProcessTree tree;

private:
    size_t add(pid_t pid, pid_t ppid, uint64_t start_ns, std::optional<uint64_t> end_ns) {
        model::Process p;
        p.pid = pid;
        p.ppid = ppid;
        p.start_ns = start_ns;
        p.set_end_ns(end_ns);
        p.how = wire::CreateHow::kFork;
        p.creation_seen_by_shim = true;
        p.shim_loaded = true;
        if (end_ns) {
            p.exit.kind = model::ExitStatus::Kind::kCode;
            p.exit.source = model::ExitSource::kKernel;
        } else {
            p.still_running = true;
        }
        tree.processes.push_back(std::move(p));
        return tree.processes.size() - 1;
    }
};

}  // namespace cowtrace::report::testing

// One traced run of a forking server, written as the collector and the library write it, so a
// diff test reads as two runs side by side.
#pragma once

#include <string>
#include <vector>

#include "model/process_tree.hpp"
#include "model/tree_builder.hpp"
#include "trace_builder.hpp"

namespace cowtrace::testing {

inline constexpr pid_t kCollectorPid = 100;
inline constexpr pid_t kServerPid = 101;
inline constexpr uint64_t kMiB = 1 << 20;

// The fork call sites the tests use, with the names the collector resolved for them.
inline constexpr uint64_t kSaveSite = 0x401000;
inline constexpr uint64_t kRewriteSite = 0x402000;

class RunBuilder {
public:
    explicit RunBuilder(std::vector<std::string> command = {"/usr/bin/server", "--port", "6379"})
        : command_(std::move(command)) {
        b_.trace_start(kCollectorPid, kServerPid, 1000, 1000, command_)
            .hello(kServerPid, 1100, kCollectorPid, command_.front(), command_);
        symbol(kSaveSite, "rdbSaveBackground+0x4d (server)");
        symbol(kRewriteSite, "rewriteAppendOnlyFileBackground+0x31 (server)");
    }

    // A fork of the server at site whose child copies copied_bytes of shared_bytes, then exits.
    RunBuilder& fork(pid_t child, uint64_t site, uint64_t shared_bytes, uint64_t copied_bytes) {
        uint64_t t = next_t();
        b_.created(kServerPid, t, wire::CreateHow::kFork, child, {site})
            .child_start(child, t + 1, wire::CreateHow::kFork, kServerPid)
            .episode_start(child, t + 2, kServerPid, shared_bytes)
            .episode_sample(child, t + 100, shared_bytes - copied_bytes, copied_bytes, 0,
                            copied_bytes)
            .episode_end(child, t + 200, wire::EpisodeEndReason::kExit)
            .exit(child, t + 300, wire::ExitHow::kUnderscoreExit, 0);
        return *this;
    }

    // A fork whose child went before the collector read its fork-time memory: no figures.
    RunBuilder& short_lived_fork(pid_t child, uint64_t site) {
        uint64_t t = next_t();
        b_.created(kServerPid, t, wire::CreateHow::kFork, child, {site})
            .child_start(child, t + 1, wire::CreateHow::kFork, kServerPid)
            .episode_start(child, t + 2, kServerPid, 0)
            .episode_end(child, t + 3, wire::EpisodeEndReason::kShortLived)
            .exit(child, t + 4, wire::ExitHow::kUnderscoreExit, 0);
        return *this;
    }

    // A child that execs program (a helper: not a fork episode of its own).
    RunBuilder& spawn(pid_t child, const std::vector<std::string>& argv) {
        uint64_t t = next_t();
        b_.created(kServerPid, t, wire::CreateHow::kPosixSpawn, child, {kRewriteSite + 0x10})
            .hello(child, t + 1, kServerPid, argv.front(), argv)
            .exit(child, t + 50, wire::ExitHow::kExit, 0);
        return *this;
    }

    RunBuilder& memory(pid_t pid, uint64_t rss_bytes, uint64_t pss_bytes) {
        b_.memory_sample(pid, next_t(), rss_bytes, pss_bytes);
        return *this;
    }

    // Written without a census, as `cowtrace run --no-cow` does.
    RunBuilder& without_census() {
        census_ = false;
        return *this;
    }

    RunBuilder& cut_short() {
        complete_ = false;
        return *this;
    }

    model::ProcessTree tree() {
        TraceBuilder b = b_;
        if (complete_) {
            uint64_t t = next_t();
            b.exit(kServerPid, t, wire::ExitHow::kExit, 0).trace_end(kCollectorPid, t + 10, 0);
        }
        model::ProcessTree tree;
        model::build_process_tree_from(b.records(), tree);
        if (!census_) tree.census_mode = model::CensusMode::kOff;
        return tree;
    }

private:
    void symbol(uint64_t address, const std::string& name) {
        wire::Symbol s;
        s.pid = kServerPid;
        s.address = address;
        s.name = name;
        b_.add(s, kCollectorPid, 1200);
    }

    uint64_t next_t() { return t_ += 1'000'000; }

    std::vector<std::string> command_;
    TraceBuilder b_;
    uint64_t t_ = 10'000;
    bool census_ = true;
    bool complete_ = true;
};

}  // namespace cowtrace::testing

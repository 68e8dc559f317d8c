// synthetic_trace SCENARIO TRACE TRUTH.json
//
// Writes a trace file the way the collector and the library would, with the real record structs
// (lib/wire), and beside it a JSON account of what it wrote: processes,
// episodes, samples, symbols. The report and check tests compare cowtrace's output with that
// account, so they do not depend on what a particular machine's census happens to measure.
//
// Scenarios:
//   fork-server  a server forks a snapshot child (large copy, symbolized call site), three
//                workers (small copies), a child that execs a hostile command line (markup,
//                quotes, bytes that are not UTF-8), and posix_spawns a compressor; memory samples
//   no-census    the same kind of tree recorded with --no-cow: no episodes, no memory samples
//   leftover     the command exits while one of its children is still running at trace end
//   many-processes [N]  a build-like tree of N short-lived processes (default 10,000): the root
//                forks one shell per 10 processes, each shell forks 9 children that exec a
//                compiler and exit; every fork is an episode ended by the exec; for
//                `cowtrace report` timings (tests/bench/run-benchmarks.sh)
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "wire/collector_records.hpp"
#include "wire/shim_records.hpp"

namespace {

using cowtrace::wire::CreateHow;
using nlohmann::json;

constexpr uint64_t kT0 = 5'000'000'000'000ull;  // CLOCK_MONOTONIC of the trace start
constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kMs = 1'000'000;
constexpr int kCollector = 4100;

class TraceFile {
public:
    explicit TraceFile(const std::string& path) : out_(path, std::ios::binary) {
        out_.write(cowtrace::wire::kFileMagic, 8);
        uint32_t version = cowtrace::wire::kFormatVersion, header = 16;
        out_.write(reinterpret_cast<const char*>(&version), 4);
        out_.write(reinterpret_cast<const char*>(&header), 4);
    }
    bool ok() const { return static_cast<bool>(out_); }

    // A record (lib/wire's struct) at t_ns after the trace start. Library records carry a
    // per-process sequence.
    template <class R>
    void record(const R& r, int pid, uint64_t t_ns, bool library = false) {
        cowtrace::wire::RecordStamp stamp;
        stamp.pid = stamp.tid = pid;
        stamp.t_ns = kT0 + t_ns;
        stamp.seq = library ? seq_[pid]++ : 0;
        size_t n = cowtrace::wire::encode_record(r, stamp, buf_.data(), buf_.size());
        out_.write(reinterpret_cast<const char*>(buf_.data()), static_cast<std::streamsize>(n));
    }
    void restart_sequence(int pid) { seq_[pid] = 0; }

private:
    std::ofstream out_;
    std::map<int, uint32_t> seq_;
    std::vector<uint8_t> buf_ = std::vector<uint8_t>(1 << 16);  // one record at a time
};

// Strings as a record's text list (they must outlive the record's encoding).
class Words {
public:
    explicit Words(const std::vector<std::string>& words) {
        for (const auto& w : words) ptrs_.push_back(w.c_str());
        ptrs_.push_back(nullptr);
    }
    cowtrace::wire::TextList list() const {
        return cowtrace::wire::TextList::of_array(ptrs_.data());
    }

private:
    std::vector<const char*> ptrs_;
};

struct Region {
    std::string name;
    uint64_t shared, copied, by_parent, by_child;
};

struct Sample {
    uint64_t t_ns, shared, copied, by_parent, by_child;
};

class Scenario {
public:
    Scenario(const std::string& trace_path, std::string census_mode)
        : trace_(trace_path), census_mode_(std::move(census_mode)) {}

    void start(int root, const std::vector<std::string>& argv) {
        root_ = root;
        Words command(argv);
        cowtrace::wire::TraceStart start;
        start.wall_t0_ns = 1'790'000'000'000'000'000ull;
        start.collector_pid = kCollector;
        start.root_pid = root;
        start.command = command.list();
        start.kernel_release = "6.18.0-synthetic";
        start.host = "testhost";
        start.kernel_events = true;
        start.census_mode = census_mode_;
        start.interval_ns = 100 * kMs;
        start.root_fork_ns = kT0 + 1 * kMs;
        trace_.record(start, kCollector, 0);
        hello(root, kCollector, 2 * kMs, argv);
        add_process(root, kCollector, 1 * kMs, argv, "fork", {});
    }

    void hello(int pid, int ppid, uint64_t t, const std::vector<std::string>& argv) {
        trace_.restart_sequence(pid);
        Words words(argv);
        cowtrace::wire::Hello hello;
        hello.flags = 1;
        hello.ppid = ppid;
        hello.execfn = argv.front();
        hello.argv = words.list();
        trace_.record(hello, pid, t, true);
    }

    // The parent's Created record and the child's ChildStart: a fork-like creation.
    void fork(int parent, int child, uint64_t t, const std::vector<uint64_t>& call_site,
              CreateHow how = CreateHow::kFork) {
        cowtrace::wire::Created created;
        created.how = how;
        created.child = child;
        created.error = 0;
        created.call_site = {call_site.data(), call_site.size()};
        trace_.record(created, parent, t, true);
        trace_.restart_sequence(child);
        trace_.record(cowtrace::wire::ChildStart{how, parent, 0}, child, t + 20'000, true);
        add_process(child, parent, t, {}, how == CreateHow::kFork ? "fork" : "?", call_site);
    }

    void posix_spawn(int parent, int child, uint64_t t, const std::vector<std::string>& argv,
                     const std::vector<uint64_t>& call_site) {
        Words words(argv);
        cowtrace::wire::Created created;
        created.how = CreateHow::kPosixSpawn;
        created.child = child;
        created.error = 0;
        created.call_site = {call_site.data(), call_site.size()};
        created.spawn_path = argv.front();
        created.spawn_argv = words.list();
        trace_.record(created, parent, t, true);
        hello(child, parent, t + 300'000, argv);
        add_process(child, parent, t, argv, "posix_spawn", call_site);
    }

    void exec(int pid, uint64_t t, const std::vector<std::string>& argv) {
        Words words(argv);
        cowtrace::wire::ExecAttempt attempt;
        attempt.path = argv.front();
        attempt.argv = words.list();
        trace_.record(attempt, pid, t, true);
        trace_.record(cowtrace::wire::KernelExec{pid}, pid, t + 50'000);
        hello(pid, 0, t + 100'000, argv);
        truth_process(pid)["argv"] = argv;
    }

    void exit(int pid, uint64_t t, int code) {
        trace_.record(cowtrace::wire::Exit{cowtrace::wire::ExitHow::kUnderscoreExit, code}, pid, t,
                      true);
        trace_.record(cowtrace::wire::KernelExit{code << 8}, pid, t + 10'000);
        json& p = truth_process(pid);
        p["end_ns"] = t + 10'000;
        p["exit_code"] = code;
    }

    void episode(int parent, int child, uint64_t t_fork, uint64_t shared,
                 const std::vector<Sample>& samples, const std::vector<Region>& regions,
                 uint8_t end_how, uint64_t t_end,
                 const std::vector<std::string>& approximations = {}) {
        Words approximation_words(approximations);
        cowtrace::wire::EpisodeStart start;
        start.parent = parent;
        start.fork_t_ns = kT0 + t_fork;
        start.mode = "exact";
        start.split_known = true;
        start.shared_bytes = shared;
        start.approximations = approximation_words.list();
        trace_.record(start, child, t_fork + 40'000);
        uint64_t peak = 0;
        json samples_json = json::array();
        for (const auto& s : samples) {
            cowtrace::wire::EpisodeSample sample;
            sample.shared_bytes = s.shared;
            sample.copied_bytes = s.copied;
            sample.copied_by_parent_bytes = s.by_parent;
            sample.copied_by_child_bytes = s.by_child;
            sample.census_cost_ns = 200'000;
            trace_.record(sample, child, s.t_ns);
            peak = std::max(peak, s.copied);
            samples_json.push_back(
                {{"t_ns", s.t_ns}, {"shared_bytes", s.shared}, {"copied_bytes", s.copied}});
        }
        uint64_t t_regions = samples.empty() ? t_fork + kMs : samples.back().t_ns;
        std::vector<cowtrace::wire::RegionFigures> figures;
        for (const auto& r : regions) {
            figures.push_back({r.name, r.shared, r.copied, r.by_parent, r.by_child});
        }
        cowtrace::wire::EpisodeRegions region_record;
        region_record.regions = {figures.data(), figures.size()};
        trace_.record(region_record, child, t_regions);
        json regions_json = json::array();
        for (const auto& r : regions) {
            regions_json.push_back({{"name", r.name},
                                    {"shared_bytes_at_fork", r.shared},
                                    {"copied_bytes", r.copied},
                                    {"copied_by_parent_bytes", r.by_parent},
                                    {"copied_by_child_bytes", r.by_child}});
        }
        if (end_how != 3) {
            trace_.record(
                cowtrace::wire::EpisodeEnd{static_cast<cowtrace::wire::EpisodeEndReason>(end_how)},
                child, t_end);
        }
        const Sample last = samples.empty() ? Sample{0, shared, 0, 0, 0} : samples.back();
        truth_["episodes"].push_back({{"parent", parent},
                                      {"child", child},
                                      {"t_ns", t_fork},
                                      {"end_ns", end_how != 3 ? json(t_end) : json(nullptr)},
                                      {"end", end_how == 1   ? "exit"
                                              : end_how == 2 ? "exec"
                                                             : "running"},
                                      {"shared_bytes_at_fork", shared},
                                      {"copied_bytes_peak", peak},
                                      {"copied_bytes_final", last.copied},
                                      {"copied_by_parent_bytes", last.by_parent},
                                      {"copied_by_child_bytes", last.by_child},
                                      {"samples", samples_json},
                                      {"regions", regions_json}});
    }

    void memory(int pid, uint64_t t, uint64_t rss, uint64_t pss) {
        trace_.record(cowtrace::wire::MemorySample{rss, pss, pss / 2, 0, rss / 2, 0}, pid, t);
        truth_["memory"][std::to_string(pid)].push_back(
            {{"t_ns", t}, {"rss_bytes", rss}, {"pss_bytes", pss}});
    }

    void symbol(int pid, uint64_t ip, const std::string& text) {
        trace_.record(cowtrace::wire::Symbol{pid, ip, text}, kCollector, 0);
        truth_["symbols"][std::to_string(pid) + ":" + std::to_string(ip)] = text;
    }

    void end(uint64_t t, int root_status, const std::vector<int>& still_running) {
        cowtrace::wire::TraceEnd end;
        end.root_status = root_status;
        end.library_records = 100;
        end.still_running = {still_running.data(), still_running.size()};
        end.longest_interval_ns = 100 * kMs;
        trace_.record(end, kCollector, t);
        truth_["duration_ns"] = t;
        truth_["still_running"] = still_running;
    }

    bool write_truth(const std::string& path) {
        truth_["root_pid"] = root_;
        truth_["collector_pid"] = kCollector;
        truth_["census_mode"] = census_mode_;
        if (!truth_.contains("episodes")) truth_["episodes"] = json::array();
        if (!truth_.contains("memory")) truth_["memory"] = json::object();
        if (!truth_.contains("symbols")) truth_["symbols"] = json::object();
        std::ofstream out(path);
        out << truth_.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
        return static_cast<bool>(out) && trace_.ok();
    }

private:
    void add_process(int pid, int ppid, uint64_t t, const std::vector<std::string>& argv,
                     const std::string& how, const std::vector<uint64_t>& call_site) {
        json p{{"pid", pid}, {"ppid", ppid},           {"start_ns", t},     {"argv", argv},
               {"how", how}, {"call_site", call_site}, {"end_ns", nullptr}, {"exit_code", nullptr}};
        truth_["processes"].push_back(std::move(p));
        process_index_[pid] = truth_["processes"].size() - 1;  // the latest holder of the pid
    }

    json& truth_process(int pid) {
        auto it = process_index_.find(pid);
        if (it != process_index_.end()) return truth_["processes"][it->second];
        add_process(pid, 0, 0, {}, "?", {});
        return truth_["processes"].back();
    }

    TraceFile trace_;
    std::string census_mode_;
    int root_ = 0;
    json truth_ = json::object();
    std::unordered_map<int, size_t> process_index_;  // pid → index in truth_["processes"]
};

// Return addresses, innermost first, as the library records them.
const std::vector<uint64_t> kSnapshotSite = {0x55550000104dull, 0x5555000021a2ull,
                                             0x5555000033e1ull};
const std::vector<uint64_t> kWorkerSite = {0x555500004100ull, 0x5555000033f0ull};
const std::vector<uint64_t> kExecSite = {0x555500005200ull, 0x555500003400ull};

void fork_server(Scenario& s) {
    const int root = 4200;
    s.start(root, {"/usr/bin/demo-server", "--port", "6379"});
    s.symbol(root, kSnapshotSite[0], "rdbSaveBackground+0x4d (demo-server)");
    s.symbol(root, kSnapshotSite[1], "serverCron+0x1a2 (demo-server)");
    s.symbol(root, kSnapshotSite[2], "main+0x3e1 (demo-server)");
    // The worker and exec sites stay unsymbolized: reports show their addresses.

    for (uint64_t t = 10 * kMs; t <= 1400 * kMs; t += 100 * kMs) {
        s.memory(root, t, 96 * kMiB, t < 100 * kMs ? 90 * kMiB : 60 * kMiB);
    }

    // The snapshot child: 64 MiB shared, 24 MiB copied at the peak (mostly by the parent).
    const int snapshot = 4201;
    s.fork(root, snapshot, 100 * kMs, kSnapshotSite);
    std::vector<Sample> samples;
    const uint64_t copied[] = {2, 6, 11, 17, 22, 24, 23};
    for (size_t i = 0; i < std::size(copied); ++i) {
        uint64_t c = copied[i] * kMiB;
        uint64_t by_child = c / 6;
        samples.push_back({(200 + 100 * i) * kMs, 64 * kMiB - c, c, c - by_child, by_child});
    }
    for (uint64_t t = 150 * kMs; t <= 850 * kMs; t += 100 * kMs)
        s.memory(snapshot, t, 70 * kMiB, 36 * kMiB);
    s.episode(root, snapshot, 100 * kMs, 64 * kMiB, samples,
              {{"[heap]", 48 * kMiB, 17 * kMiB, 15 * kMiB, 2 * kMiB},
               {"[anon:jemalloc]", 12 * kMiB, 5 * kMiB, 4 * kMiB, 1 * kMiB},
               {"[stack]", 132 * 1024, 8 * 1024, 0, 8 * 1024},
               {"/usr/lib/libdemo.so", 4 * kMiB, 0, 0, 0}},
              1, 860 * kMs, {"THP ranges are judged by their head page"});
    s.exit(snapshot, 860 * kMs, 0);

    // Three workers, identical: each copies 1 MiB of 64 MiB.
    for (int k = 0; k < 3; ++k) {
        int pid = 4202 + k;
        uint64_t t = (300 + 100 * k) * kMs;
        s.fork(root, pid, t, kWorkerSite);
        s.episode(root, pid, t, 64 * kMiB,
                  {{t + 100 * kMs, 63 * kMiB + 512 * 1024, 512 * 1024, 0, 512 * 1024},
                   {t + 200 * kMs, 63 * kMiB, 1 * kMiB, 0, 1 * kMiB}},
                  {{"[heap]", 48 * kMiB, 1 * kMiB, 0, 1 * kMiB}}, 1, t + 250 * kMs);
        s.exit(pid, t + 250 * kMs, 0);
    }

    // A child that execs a command line meant to break naive renderers.
    const int hostile = 4205;
    s.fork(root, hostile, 1000 * kMs, kExecSite);
    s.episode(root, hostile, 1000 * kMs, 64 * kMiB, {{1002 * kMs, 64 * kMiB - 8192, 8192, 0, 8192}},
              {{"[stack]", 132 * 1024, 8192, 0, 8192}}, 2, 1003 * kMs);
    s.exec(hostile, 1003 * kMs,
           {"/bin/sh", "-c",
            "echo '</script><script>alert(1)</script>' \"quoted\" & <!-- \xff\xfe not utf-8"});
    s.exit(hostile, 1050 * kMs, 3);

    // posix_spawn shares nothing: no episode.
    const int spawned = 4206;
    s.posix_spawn(root, spawned, 1100 * kMs, {"/usr/bin/gzip", "-9"}, kWorkerSite);
    s.exit(spawned, 1200 * kMs, 0);

    s.exit(root, 1500 * kMs, 0);
    s.end(1510 * kMs, 0, {});
}

void no_census(Scenario& s) {
    const int root = 4300;
    s.start(root, {"/usr/bin/make", "-j2"});
    for (int k = 0; k < 2; ++k) {
        int pid = 4301 + k;
        s.fork(root, pid, (100 + 100 * k) * kMs, kWorkerSite);
        s.exec(pid, (101 + 100 * k) * kMs, {"/usr/bin/cc", "-c", "x.c"});
        s.exit(pid, (180 + 100 * k) * kMs, 0);
    }
    s.exit(root, 400 * kMs, 0);
    s.end(410 * kMs, 0, {});
}

void leftover(Scenario& s) {
    const int root = 4400;
    s.start(root, {"/usr/bin/launcher"});
    s.fork(root, 4401, 100 * kMs, kWorkerSite);
    s.exit(4401, 200 * kMs, 0);
    s.fork(root, 4402, 300 * kMs, kWorkerSite);
    s.exec(4402, 301 * kMs, {"/usr/bin/sleep", "60"});
    s.fork(root, 4403, 350 * kMs, kWorkerSite);
    s.exit(root, 400 * kMs, 0);
    s.exit(4403, 700 * kMs, 0);  // outlived the command, then ended
    s.end(900 * kMs, 0, {4402});
}

// A build: the root forks a shell per 10 processes; each shell forks 9 compilers. Every child
// is forked (an episode of a few MiB, ended by its exec a fraction of a millisecond later),
// execs and exits; one process in four has a memory sample. Processes start 0.5 ms apart.
void many_processes(Scenario& s, int n) {
    const int root = 10000;
    s.start(root, {"/usr/bin/make", "-j2"});
    int made = 1;
    uint64_t t = 5 * kMs;
    int next_pid = root + 1;
    auto short_lived = [&](int parent, int pid, uint64_t t0, const std::vector<std::string>& argv,
                           uint64_t life) {
        s.fork(parent, pid, t0, kWorkerSite);
        uint64_t shared = (2 + pid % 7) * kMiB;
        s.episode(
            parent, pid, t0, shared, {{t0 + 250'000, shared - 8192, 8192, 4096, 4096}},
            {{"[heap]", shared - 64 * 1024, 4096, 4096, 0}, {"[stack]", 64 * 1024, 4096, 0, 4096}},
            2, t0 + 260'000);
        s.exec(pid, t0 + 300'000, argv);
        if (pid % 4 == 0) s.memory(pid, t0 + life / 2, 12 * kMiB, 6 * kMiB);
        s.exit(pid, t0 + life, 0);
    };
    while (made < n) {
        int shell = next_pid++;
        uint64_t shell_start = t;
        int children = std::min(9, n - made - 1);
        uint64_t shell_life = static_cast<uint64_t>(children + 1) * 500'000 + 2 * kMs;
        s.fork(root, shell, shell_start, kExecSite);
        s.episode(root, shell, shell_start, 24 * kMiB,
                  {{shell_start + 250'000, 24 * kMiB, 0, 0, 0}}, {{"[heap]", 24 * kMiB, 0, 0, 0}},
                  2, shell_start + 260'000);
        s.exec(shell, shell_start + 300'000, {"/bin/sh", "-c", "cc -c -O2 unit.c"});
        ++made;
        for (int k = 0; k < children; ++k) {
            int pid = next_pid++;
            std::string unit = "src/unit" + std::to_string(pid) + ".c";
            short_lived(shell, pid, shell_start + 500'000 * static_cast<uint64_t>(k + 1),
                        {"/usr/bin/cc", "-c", "-O2", unit, "-o", unit + ".o"}, 1500'000);
            ++made;
        }
        s.exit(shell, shell_start + shell_life, 0);
        t += static_cast<uint64_t>(children + 1) * 500'000;
    }
    s.exit(root, t + 10 * kMs, 0);
    s.end(t + 20 * kMs, 0, {});
}

}  // namespace

int main(int argc, char** argv) {
    std::string scenario = argc >= 2 ? argv[1] : "";
    if (argc != 4 && !(argc == 5 && scenario == "many-processes")) {
        fprintf(stderr,
                "usage: synthetic_trace fork-server|no-census|leftover TRACE TRUTH.json\n"
                "       synthetic_trace many-processes TRACE TRUTH.json [N]\n");
        return 2;
    }
    Scenario s(argv[2], scenario == "no-census" ? "off" : "exact");
    if (scenario == "fork-server")
        fork_server(s);
    else if (scenario == "no-census")
        no_census(s);
    else if (scenario == "leftover")
        leftover(s);
    else if (scenario == "many-processes")
        many_processes(s, argc == 5 ? std::max(2, atoi(argv[4])) : 10000);
    else {
        fprintf(stderr, "synthetic_trace: unknown scenario %s\n", argv[1]);
        return 2;
    }
    if (!s.write_truth(argv[3])) {
        fprintf(stderr, "synthetic_trace: cannot write %s or %s\n", argv[2], argv[3]);
        return 1;
    }
    return 0;
}

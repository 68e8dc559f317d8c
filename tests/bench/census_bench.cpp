// Cost of one copy-on-write census of a large process, next to the plain sequential read of its
// pagemap that any census needs at least. The process: COWTRACE_BENCH_GIB GiB (default 4) of
// touched anonymous memory, forked; the parent then writes a quarter of it.
//
//   build/tests/bench/census_bench [--benchmark_repetitions=5 --benchmark_report_aggregates_only]
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/cow_census.hpp"
#include "core/pagemap.hpp"

namespace {

struct ForkedProcess {
    char* region = nullptr;
    size_t bytes = 0;
    pid_t child = 0;
    cowtrace::pagemap::PagemapReader child_pm, parent_pm;
    cowtrace::EpisodeBaseline baseline;
    cowtrace::CensusMode mode = cowtrace::CensusMode::kUnprivileged;

    ForkedProcess() {
        const char* gib = getenv("COWTRACE_BENCH_GIB");
        bytes = static_cast<size_t>(gib ? atof(gib) : 4.0) << 30;
        region = static_cast<char*>(
            mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        madvise(region, bytes, MADV_NOHUGEPAGE);  // 4 KiB pages: the expensive case
        memset(region, 1, bytes);
        child = fork();
        if (child == 0) {
            pause();
            _exit(0);
        }
        for (size_t i = 0; i < bytes / 4; i += 4096) region[i] = 2;
        std::string err;
        child_pm.open(child, err);
        parent_pm.open(getpid(), err);
        if (cowtrace::pagemap::pfns_visible()) mode = cowtrace::CensusMode::kExact;
        baseline.take(child, child_pm, mode, cowtrace::learn_zero_page().pfn, {}, err);
        baseline.add_parent(parent_pm);
    }
    ~ForkedProcess() {
        kill(child, SIGKILL);
        waitpid(child, nullptr, 0);
        munmap(region, bytes);
    }
};

ForkedProcess& process() {
    static ForkedProcess p;
    return p;
}

void BM_PlainPagemapRead(benchmark::State& state) {
    ForkedProcess& p = process();
    std::vector<uint64_t> entries;
    auto start = reinterpret_cast<uint64_t>(p.region);
    for (auto _ : state) {
        p.child_pm.read(start, start + p.bytes, entries);
        benchmark::DoNotOptimize(entries.data());
    }
    state.counters["pages"] = static_cast<double>(p.bytes / 4096);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (p.bytes / 4096)));
}

void BM_Census(benchmark::State& state) {
    ForkedProcess& p = process();
    cowtrace::CensusTotals totals;
    for (auto _ : state) {
        p.baseline.census(p.child, p.child_pm, p.parent_pm, totals);
        benchmark::DoNotOptimize(totals.copied_pages);
    }
    state.counters["copied_GiB"] = static_cast<double>(totals.copied_pages) * 4096 / (1 << 30);
    state.counters["exact"] = p.mode == cowtrace::CensusMode::kExact;
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (p.bytes / 4096)));
}

// What a child waits for right after fork: its own side of the baseline.
void BM_Baseline(benchmark::State& state) {
    ForkedProcess& p = process();
    for (auto _ : state) {
        cowtrace::EpisodeBaseline b;
        std::string err;
        b.take(p.child, p.child_pm, p.mode, 0, {}, err);  // what the child waits for
        benchmark::DoNotOptimize(b.shared_pages_at_fork());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (p.bytes / 4096)));
}

BENCHMARK(BM_PlainPagemapRead)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Census)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Baseline)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

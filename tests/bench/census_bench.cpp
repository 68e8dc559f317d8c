// Cost of one copy-on-write census of a large process, next to the plain sequential read of its
// pagemap that any census needs at least. The process: a mapping of COWTRACE_BENCH_GIB GiB
// (default 4), laid out as COWTRACE_BENCH_LAYOUT says, forked; the parent then writes a quarter
// of the pages it had written.
//
//   dense   every 4 KiB page written (MADV_NOHUGEPAGE): the expensive case (default)
//   sparse  one 4 KiB page in 16 written (the mapping's size is virtual; 1/16 of it is memory)
//   thp     every page written, MADV_HUGEPAGE (transparent huge pages where the kernel gives them)
//   zero    every page read, none written: each entry maps the kernel's zero page, so a mapping
//           of any size costs no memory (a lower bound for a dense mapping of that size; nothing
//           is shared copy-on-write, so the census finds nothing to classify)
//
//   COWTRACE_BENCH_GIB=4 COWTRACE_BENCH_LAYOUT=dense build/tests/bench/census_bench
//       --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true   (one line)
//
// With random interleaving, the repetitions of the three benchmarks (plain read, census,
// baseline) run in a shuffled order over the same process, so their ratios come from
// measurements taken side by side. tests/bench/run-benchmarks.sh runs it for each size and
// layout and prints the ratios.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/cow_census.hpp"
#include "core/pagemap.hpp"

namespace {

constexpr size_t kPage = 4096;

struct ForkedProcess {
    char* region = nullptr;
    size_t bytes = 0;
    std::string layout = "dense";
    size_t stride = 1;         // one written page every `stride` pages
    size_t written_pages = 0;  // pages the parent wrote before the fork
    pid_t child = 0;
    cowtrace::pagemap::PagemapReader child_pm, parent_pm;
    cowtrace::EpisodeBaseline baseline;
    cowtrace::CensusMode mode = cowtrace::CensusMode::kUnprivileged;

    ForkedProcess() {
        const char* gib = getenv("COWTRACE_BENCH_GIB");
        const char* lay = getenv("COWTRACE_BENCH_LAYOUT");
        bytes = static_cast<size_t>((gib ? atof(gib) : 4.0) * (1 << 30));
        bytes -= bytes % (2u << 20);
        if (lay != nullptr && *lay != '\0') layout = lay;
        if (layout != "dense" && layout != "sparse" && layout != "thp" && layout != "zero") {
            fprintf(stderr,
                    "census_bench: COWTRACE_BENCH_LAYOUT must be dense, sparse, thp or zero\n");
            exit(2);
        }
        if (layout == "sparse") stride = 16;
        region = static_cast<char*>(
            mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (region == MAP_FAILED) {
            perror("census_bench: mmap");
            exit(1);
        }
        madvise(region, bytes, layout == "thp" ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
        if (layout == "zero") {
            volatile char sink = 0;
            for (size_t off = 0; off < bytes; off += kPage) sink = sink + region[off];
        } else {
            // Populated in one call where every page is written (faults cost more), then written.
            if (stride == 1) madvise(region, bytes, MADV_POPULATE_WRITE);
            for (size_t off = 0; off < bytes; off += stride * kPage) {
                memset(region + off, 1, kPage);
                ++written_pages;
            }
        }
        child = fork();
        if (child == 0) {
            pause();
            _exit(0);
        }
        // The parent copies a quarter of what it had written.
        for (size_t off = 0; layout != "zero" && off < bytes / 4; off += stride * kPage)
            region[off] = 2;
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

    void counters(benchmark::State& state) const {
        state.counters["vma_pages"] = static_cast<double>(bytes / kPage);
        state.counters["written_pages"] = static_cast<double>(written_pages);
        state.counters["exact"] = mode == cowtrace::CensusMode::kExact;
        state.SetLabel(layout + " " + std::to_string(bytes >> 30) + "GiB");
        state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (bytes / kPage)));
    }
};

ForkedProcess& process() {
    static ForkedProcess p;
    return p;
}

// One sequential pread of the child's pagemap over the whole mapping (PagemapReader::read: the
// census's own reader), whatever is populated.
void BM_PlainPagemapRead(benchmark::State& state) {
    ForkedProcess& p = process();
    std::vector<uint64_t> entries;
    auto start = reinterpret_cast<uint64_t>(p.region);
    for (auto _ : state) {
        p.child_pm.read(start, start + p.bytes, entries);
        benchmark::DoNotOptimize(entries.data());
    }
    p.counters(state);
}

// One periodic sample: both sides read and every fork-time page classified.
void BM_Census(benchmark::State& state) {
    ForkedProcess& p = process();
    cowtrace::CensusTotals totals;
    for (auto _ : state) {
        p.baseline.census(p.child, p.child_pm, p.parent_pm, totals);
        benchmark::DoNotOptimize(totals.copied_pages);
    }
    state.counters["copied_pages"] = static_cast<double>(totals.copied_pages);
    p.counters(state);
}

// What a child waits for right after fork: its own side of the baseline.
void BM_Baseline(benchmark::State& state) {
    ForkedProcess& p = process();
    for (auto _ : state) {
        cowtrace::EpisodeBaseline b;
        std::string err;
        b.take(p.child, p.child_pm, p.mode, 0, {}, err);
        benchmark::DoNotOptimize(b.shared_pages_at_fork());
    }
    p.counters(state);
}

BENCHMARK(BM_PlainPagemapRead)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Census)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Baseline)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

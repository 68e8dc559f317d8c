// What naming one call-site address costs the collector (SourceSymbolizer, elfutils libdw), in
// three states of its cache:
//   cold     a new symbolizer per address: the file is opened and its DWARF indexes read
//   fresh    one symbolizer, each address asked once (the usual end of a run: many call sites,
//            each named once, in files already opened)
//   repeated one symbolizer, the same few addresses again and again
// for two files: this program (DWARF of a RelWithDebInfo build, all of cowtrace's collector in
// it) and libc (its DWARF where libc6-dbg is installed, else its symbols). The addresses are
// spread over the file's code, so in a "fresh" lookup most fall in a compilation unit not seen
// before: libdw then reads that unit's line table and the symbolizer indexes its functions.
//
//   build/tests/bench/symbolize_bench --benchmark_repetitions=5   (µs per address: time/iteration)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "collector/source_symbolizer.hpp"
#include "core/proc_maps.hpp"

namespace {

using cowtrace::Mapping;
using cowtrace::collector::SourceSymbolizer;

struct Target {
    std::string path;
    std::vector<uint64_t> offsets;  // spread evenly over the executable segment
};

// The executable mapping holding addr, and kCount offsets spread over it.
Target target_of(const void* addr) {
    constexpr size_t kCount = 4096;
    std::vector<Mapping> maps;
    Target t;
    if (!cowtrace::read_maps(getpid(), maps)) return t;
    auto a = reinterpret_cast<uint64_t>(addr);
    for (const Mapping& m : maps) {
        if (a < m.start || a >= m.end || !m.executable) continue;
        t.path = m.path;
        uint64_t step = (m.end - m.start) / kCount;
        for (size_t i = 0; i < kCount; ++i) t.offsets.push_back(m.offset + 1 + i * step);
    }
    return t;
}

const Target& own_program() {
    static const Target t = target_of(reinterpret_cast<const void*>(&own_program));
    return t;
}

const Target& libc() {
    static const Target t = target_of(reinterpret_cast<const void*>(&::getpid));
    return t;
}

void cold(benchmark::State& state, const Target& t) {
    size_t i = 0;
    for (auto _ : state) {
        SourceSymbolizer s;
        benchmark::DoNotOptimize(s.frames_at(t.path, t.offsets[i++ % t.offsets.size()], true));
    }
}

void fresh(benchmark::State& state, const Target& t) {
    auto s = std::make_unique<SourceSymbolizer>();
    s->frames_at(t.path, t.offsets[0], true);  // the file opened
    size_t i = 1;
    for (auto _ : state) {
        if (i == t.offsets.size()) {  // every address asked: start again with a new cache
            state.PauseTiming();
            s = std::make_unique<SourceSymbolizer>();
            s->frames_at(t.path, t.offsets[0], true);
            i = 1;
            state.ResumeTiming();
        }
        benchmark::DoNotOptimize(s->frames_at(t.path, t.offsets[i++], true));
    }
}

void repeated(benchmark::State& state, const Target& t) {
    SourceSymbolizer s;
    size_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(s.frames_at(t.path, t.offsets[(i++ % 16) * 256], true));
}

BENCHMARK_CAPTURE(cold, own_program_dwarf, own_program())->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(fresh, own_program_dwarf, own_program())->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(repeated, own_program_dwarf, own_program())->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(cold, libc, libc())->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(fresh, libc, libc())->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(repeated, libc, libc())->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

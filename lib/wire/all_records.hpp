// Every record type of the format, for code that must handle each one: the round-trip test,
// the fuzzers, the format documentation check.
#pragma once

#include <array>

#include "collector_records.hpp"
#include "shim_records.hpp"

namespace cowtrace::wire {

template <class... Records>
struct RecordTypes {
    // Calls f.template operator()<R>() for each record type R.
    template <class F>
    static void for_each(F&& f) {
        (f.template operator()<Records>(), ...);
    }
    static constexpr std::array<RecordType, sizeof...(Records)> kTypes = {Records::kType...};
};

using AllRecords =
    RecordTypes<TraceStart, TraceEnd, CollectorNote, KernelFork, KernelExec, KernelExit,
                SubreaperReaped, Symbol, ImageFacts, ProcessCarried, Hello, Created, ChildStart,
                ExecAttempt, ExecFailed, Exit, WaitReaped, SpawnBegin, Dropped, CensusRequest,
                DlopenDeepbind, EpisodeStart, EpisodeSample, EpisodeEnd, MemorySample,
                EpisodeRegions, CopyPath, CopyAttribution>;

}  // namespace cowtrace::wire

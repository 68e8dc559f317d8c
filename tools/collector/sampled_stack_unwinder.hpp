// Unwinds a page-fault sample's user stack in the collector, with libunwind's remote interface:
// an address space whose accessors read the sample's registers and stack copy, and the mapped
// ELF files for code and unwind tables (research: /work/shared/research/attribution.md §4.3).
// libunwind never runs in the traced process, and the process is never read, stopped or
// ptraced: a sample can be unwound after its process ended.
//
// One unwinder stands for one address-space layout (a process image; its fork children share
// it until they exec).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/proc_maps.hpp"
#include "mapped_elf_files.hpp"
#include "page_fault_sampler.hpp"

namespace cowtrace::collector {

struct UnwoundFrame {
    uint64_t pc = 0;
    std::string module;  // the mapped file; empty: anonymous code (a JIT) or unknown
    uint64_t file_offset = 0;
    bool return_address = false;  // every frame but the innermost: pc follows a call
};

class SampledStackUnwinder {
public:
    // The layout of pid as it is now (its /proc/<pid>/maps).
    SampledStackUnwinder(pid_t pid, MappedElfFiles& files);
    ~SampledStackUnwinder();
    SampledStackUnwinder(const SampledStackUnwinder&) = delete;
    SampledStackUnwinder& operator=(const SampledStackUnwinder&) = delete;

    bool valid() const { return !mappings_.empty(); }
    // Innermost first; at least the sampled IP. A frame whose code is not in the maps read so
    // far makes it read them again (a library dlopen'ed since), once per sample.
    std::vector<UnwoundFrame> unwind(const FaultSample& sample, size_t max_frames = 64);

private:
    struct Call;
    friend struct UnwindAccessors;
    const Mapping* mapping_of(uint64_t address) const;
    const MappedElfFile* file_of(const Mapping& m);
    bool read_word(const Call& call, uint64_t address, uint64_t& value);
    int find_proc_info(uint64_t ip, void* proc_info, int need_unwind_info, void* arg);
    bool refresh();

    pid_t pid_;
    MappedElfFiles& files_;
    std::vector<Mapping> mappings_;  // sorted by start
    void* address_space_ = nullptr;  // unw_addr_space_t
    bool refreshed_this_sample_ = false;
};

}  // namespace cowtrace::collector

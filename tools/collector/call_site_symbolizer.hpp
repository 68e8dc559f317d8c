// Names the call sites the shim captured (return addresses in the creating process). The host
// never symbolizes: the collector notes each process's executable mappings while it is alive,
// and at the end of the run turns addresses into "function+0x1a (library)".
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/proc_maps.hpp"
#include "elf_symbols.hpp"

namespace cowtrace::collector {

class CallSiteSymbolizer {
public:
    // A record pid sent at sent_ns carried these frames: remember them and pid's mappings (now,
    // while it is alive — read again if an address is not covered). Frames sent by an image the
    // process has since replaced are left unnamed: the mappings that would name them are gone,
    // and the new image's would name them wrongly.
    void note(pid_t pid, const std::vector<uint64_t>& frames, uint64_t sent_ns);
    // The process exec'd at t_ns (the kernel's exec event, or the new image's hello): its
    // mappings changed.
    void forget_mappings(pid_t pid, uint64_t t_ns);

    // Every noted (pid, address) with its name.
    std::vector<std::pair<std::pair<pid_t, uint64_t>, std::string>> resolve();

private:
    struct Located {
        std::string path;
        uint64_t file_offset = 0;
    };
    std::map<pid_t, std::vector<Mapping>> mappings_;
    std::map<pid_t, uint64_t> image_start_ns_;  // when pid's current image began
    std::map<std::pair<pid_t, uint64_t>, Located> frames_;
    std::map<std::string, ElfSymbols> files_;
};

}  // namespace cowtrace::collector

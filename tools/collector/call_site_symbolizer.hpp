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
    // A record from pid carried these frames: remember them and pid's mappings (now, while it
    // is alive — read again if an address is not covered).
    void note(pid_t pid, const std::vector<uint64_t>& frames);
    // The process exec'd: its mappings changed.
    void forget_mappings(pid_t pid);

    // Every noted (pid, address) with its name.
    std::vector<std::pair<std::pair<pid_t, uint64_t>, std::string>> resolve();

private:
    struct Located {
        std::string path;
        uint64_t file_offset = 0;
    };
    std::map<pid_t, std::vector<Mapping>> mappings_;
    std::map<std::pair<pid_t, uint64_t>, Located> frames_;
    std::map<std::string, ElfSymbols> files_;
};

}  // namespace cowtrace::collector

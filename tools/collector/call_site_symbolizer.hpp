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
    // An image of pid began at t_ns (its hello, or a fork child's start): its mappings are read
    // now, while it surely runs, so that frames it sent reach the collector after it exec'd
    // are still named from its own mappings.
    void image_started(pid_t pid, uint64_t t_ns);
    // A record pid sent at sent_ns carried these frames: they are located in the mappings of
    // the image that ran then (read again if an address is not covered and that image still
    // runs). Frames of an image whose mappings were never read are left unnamed: the new
    // image's would name them wrongly.
    void note(pid_t pid, const std::vector<uint64_t>& frames, uint64_t sent_ns);
    // The process is gone: its images' mappings are no longer needed.
    void process_gone(pid_t pid);

    // Every (pid, address) noted since the last call, with its name; then forgets them (a
    // rotated trace file gets the names of its own frames).
    std::vector<std::pair<std::pair<pid_t, uint64_t>, std::string>> resolve();

private:
    struct Located {
        std::string path;
        uint64_t file_offset = 0;
    };
    struct Image {
        uint64_t start_ns = 0;
        std::vector<Mapping> mappings;
    };
    // The latest two images of each live pid (a record of the one before the latest may still
    // be on its way).
    std::map<pid_t, std::vector<Image>> images_;
    std::map<std::pair<pid_t, uint64_t>, Located> frames_;
    std::map<std::string, ElfSymbols> files_;
};

}  // namespace cowtrace::collector

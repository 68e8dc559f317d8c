// Names the call sites the shim captured (return addresses in the creating process). The host
// never symbolizes: the collector notes each process's executable mappings while it is alive,
// and at the end of the run turns addresses into "function (file.c:42)" where the file has debug
// information, "function (library)" where it has only symbols (SourceSymbolizer).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/proc_maps.hpp"
#include "source_symbolizer.hpp"

namespace cowtrace::collector {

class CallSiteSymbolizer {
public:
    // An image of pid began at t_ns (its hello, or a fork child's start): its mappings are read
    // now, while it surely runs, so that frames it sent reach the collector after it exec'd
    // are still named from its own mappings.
    void image_started(pid_t pid, uint64_t t_ns);
    // A forked child started at t_ns with a copy of its parent's memory: its mappings are the
    // parent's image's as they were at the fork, copied rather than read from /proc (a read per
    // fork cost the collector as much as the fork's other work). Read when the parent's are not
    // known.
    void image_copied(pid_t child, pid_t parent, uint64_t t_ns);
    // A record pid sent at sent_ns carried these frames: they are located in the mappings of
    // the image that ran then (read again if an address is not covered and that image still
    // runs). Frames of an image whose mappings were never read are left unnamed: the new
    // image's would name them wrongly.
    void note(pid_t pid, const std::vector<uint64_t>& frames, uint64_t sent_ns);
    // The process is gone: its images' mappings are no longer needed.
    void process_gone(pid_t pid);

    struct Resolved {
        pid_t pid = 0;
        uint64_t address = 0;
        // Innermost first: the inlined callees at the address, then the function holding it.
        std::vector<std::string> frames;
    };
    // Every (pid, address) noted since the last call, with its frames; then forgets them (a
    // rotated trace file gets the names of its own frames).
    std::vector<Resolved> resolve();

    // How a call-site frame reads: "function (file.c:42)", "function (module)" without line
    // information, "module+0x1a2b" without a symbol.
    static std::string label(const SourceFrame& frame, uint64_t file_offset);

private:
    struct Located {
        std::string path;
        uint64_t file_offset = 0;  // of the return address
    };
    struct Image {
        uint64_t start_ns = 0;
        std::vector<Mapping> mappings;
    };
    // The latest two images of each live pid (a record of the one before the latest may still
    // be on its way).
    std::map<pid_t, std::vector<Image>> images_;
    std::map<std::pair<pid_t, uint64_t>, Located> frames_;
    SourceSymbolizer source_;
};

}  // namespace cowtrace::collector

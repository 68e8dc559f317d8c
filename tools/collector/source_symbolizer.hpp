// Names code in ELF files on disk: function, source file:line where DWARF is present, and the
// inlined callees at an address, through elfutils libdw. The tools symbolize, never the host:
// callers pass a file and an offset they located in a process's module map.
//
// Debug information is the file's own (.debug_* sections) or found in /usr/lib/debug/.build-id/
// by build-id (Debian's -dbgsym packages); not through .gnu_debuglink, and never through
// debuginfod, which would make the collector wait on the network at the end of a run (Debian
// sets DEBUGINFOD_URLS in login shells). Without DWARF, functions are named from .symtab, else
// .dynsym. One instance is used by one thread. Files are read without trusting them: a
// truncated or foreign file gives an unknown frame.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cowtrace::collector {

struct SourceFrame {
    std::string function;  // demangled; empty if unknown
    std::string file;  // source file (basename or path as DWARF gives it); empty if no line info
    int line = 0;
    bool inlined = false;  // an inlined callee within the frame below it
    std::string module;    // the ELF file's basename
};

class SourceSymbolizer {
public:
    SourceSymbolizer();
    ~SourceSymbolizer();
    SourceSymbolizer(const SourceSymbolizer&) = delete;
    SourceSymbolizer& operator=(const SourceSymbolizer&) = delete;
    SourceSymbolizer(SourceSymbolizer&&) noexcept;
    SourceSymbolizer& operator=(SourceSymbolizer&&) noexcept;

    // The frames for the code at file_offset in the ELF file at path, innermost first (inlined
    // callees, then the function that contains it). is_return_address: the address follows a
    // call, so look up the call instruction (address - 1). Never throws; unknown → one frame with
    // empty function and the module set.
    std::vector<SourceFrame> frames_at(const std::string& path, uint64_t file_offset,
                                       bool is_return_address);
    // "function (file.c:123)", "function", or "module+0x1a2b" when nothing is known.
    static std::string describe(const SourceFrame& frame, uint64_t file_offset);

    // Files held open at most (each a Dwfl with its descriptors and mappings): past that the
    // cache starts again, so a collector that runs for weeks does not keep every file it named.
    static constexpr size_t kMaxCachedFiles = 128;

private:
    struct File;
    File& file_of(const std::string& path);

    std::map<std::string, std::unique_ptr<File>> files_;
};

}  // namespace cowtrace::collector

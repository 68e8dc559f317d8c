// /proc/<pid>/maps, parsed: the address ranges a census walks and the names regions go by.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cowtrace {

struct Mapping {
    uint64_t start = 0;
    uint64_t end = 0;
    bool readable = false;
    bool writable = false;
    bool executable = false;
    bool shared = false;  // MAP_SHARED: never copy-on-write
    uint64_t offset = 0;
    uint64_t inode = 0;
    std::string path;  // "[heap]", "[stack]", "[anon:name]", a file, or empty (anonymous)

    // The name a region is reported under: the path, or "[anon]" for unnamed anonymous memory.
    std::string region_name() const;
    // Kernel-special mappings ([vvar], [vdso], [vsyscall]) hold no process memory.
    bool is_special() const;
};

// Parses maps text; lines that do not parse are skipped.
std::vector<Mapping> parse_maps(const std::string& text);

// Reads /proc/<pid>/maps; false if the process is gone or unreadable.
bool read_maps(pid_t pid, std::vector<Mapping>& out);

// Reads a whole /proc file (their size is unknown until read).
bool read_proc_file(const std::string& path, std::string& out);

}  // namespace cowtrace

// Function symbols of one ELF file (.symtab if present, else .dynsym), for naming call sites.
// Reads the file without trusting it: every offset and size is checked against the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cowtrace::collector {

class ElfSymbols {
public:
    // Loads path; false if it is not a readable 64-bit ELF file.
    bool load(const std::string& path);

    // The ELF virtual address of a file offset (through the PT_LOAD segments).
    std::optional<uint64_t> vaddr_of_offset(uint64_t file_offset) const;
    // "function+0x1a" for an ELF virtual address, demangled; empty if no symbol contains it.
    std::string name_of(uint64_t vaddr) const;

private:
    struct Segment {
        uint64_t offset, vaddr, filesz;
    };
    struct Symbol {
        uint64_t start, size;
        std::string name;
    };
    std::vector<Segment> segments_;
    std::vector<Symbol> symbols_;  // sorted by start
};

}  // namespace cowtrace::collector

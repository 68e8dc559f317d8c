// The ELF files a sampled process had mapped, opened read-only by the collector: what the stack
// unwinder reads for code and unwind tables that a stack copy does not contain. Files are
// checked against the inode the process mapped (a package upgraded during the run would give
// wrong frames, research §4.5) and never trusted: every offset is bounded by the file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cowtrace::collector {

class MappedElfFile {
public:
    ~MappedElfFile();
    MappedElfFile(const MappedElfFile&) = delete;
    MappedElfFile& operator=(const MappedElfFile&) = delete;

    // Opens path (through root, the process's /proc/<pid>/root, when it is not ours); nullptr if
    // it is not a readable 64-bit ELF file with that inode (0: any).
    static std::unique_ptr<MappedElfFile> open(const std::string& path, uint64_t inode);

    // Reads size bytes at a file offset; false past the end.
    bool read(uint64_t offset, void* out, size_t size) const;
    // The ELF virtual address of a file offset (through the PT_LOAD segments).
    std::optional<uint64_t> vaddr_of_offset(uint64_t offset) const;

    struct EhFrameHeader {
        uint64_t vaddr = 0;   // of .eh_frame_hdr
        uint64_t offset = 0;  // in the file
        uint64_t fde_count = 0;
    };
    // .eh_frame_hdr with a binary-search table libunwind can use; nullopt if there is none.
    const std::optional<EhFrameHeader>& eh_frame_header() const { return eh_frame_header_; }

private:
    MappedElfFile() = default;
    struct Segment {
        uint64_t offset, vaddr, filesz;
    };
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    std::vector<Segment> segments_;
    std::optional<EhFrameHeader> eh_frame_header_;
};

// The files, by path and inode, opened once for the collection.
class MappedElfFiles {
public:
    // nullptr if the file cannot be used (remembered: not tried again).
    const MappedElfFile* get(const std::string& path, uint64_t inode);

private:
    std::map<std::pair<std::string, uint64_t>, std::unique_ptr<MappedElfFile>> files_;
};

}  // namespace cowtrace::collector

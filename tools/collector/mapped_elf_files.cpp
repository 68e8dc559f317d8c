#include "mapped_elf_files.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace cowtrace::collector {
namespace {

// DWARF pointer encodings (LSB, .eh_frame_hdr).
constexpr uint8_t kPeUdata4 = 0x03;
constexpr uint8_t kPeSdata4 = 0x0b;
constexpr uint8_t kPeDatarel = 0x30;

}  // namespace

MappedElfFile::~MappedElfFile() {
    if (data_ != nullptr) munmap(const_cast<uint8_t*>(data_), size_);
}

std::unique_ptr<MappedElfFile> MappedElfFile::open(const std::string& path, uint64_t inode) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 64 ||
        (inode != 0 && st.st_ino != inode)) {
        close(fd);
        return nullptr;
    }
    // A file replaced on disk keeps its old inode alive while mapped: a rename-based package
    // upgrade cannot truncate what is mapped here.
    void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return nullptr;
    std::unique_ptr<MappedElfFile> f(new MappedElfFile);
    f->data_ = static_cast<const uint8_t*>(p);
    f->size_ = static_cast<size_t>(st.st_size);

    Elf64_Ehdr eh;
    if (!f->read(0, &eh, sizeof eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr)) {
        return nullptr;
    }
    std::optional<Elf64_Phdr> eh_frame_hdr;
    for (uint32_t i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        if (!f->read(eh.e_phoff + uint64_t{i} * sizeof ph, &ph, sizeof ph)) return nullptr;
        if (ph.p_type == PT_LOAD) f->segments_.push_back({ph.p_offset, ph.p_vaddr, ph.p_filesz});
        if (ph.p_type == PT_GNU_EH_FRAME) eh_frame_hdr = ph;
    }
    if (eh_frame_hdr) {
        // version 1; encodings of eh_frame_ptr, fde_count and the table. libunwind's remote
        // table search takes only a table of (sdata4, sdata4) pairs relative to the header.
        uint8_t head[4];
        uint32_t count = 0;
        if (f->read(eh_frame_hdr->p_offset, head, sizeof head) && head[0] == 1 &&
            head[2] == kPeUdata4 && head[3] == (kPeDatarel | kPeSdata4) &&
            (head[1] & 0x0f) == kPeSdata4 &&
            f->read(eh_frame_hdr->p_offset + 8, &count, sizeof count)) {
            f->eh_frame_header_ =
                EhFrameHeader{eh_frame_hdr->p_vaddr, eh_frame_hdr->p_offset, count};
        }
    }
    return f;
}

bool MappedElfFile::read(uint64_t offset, void* out, size_t size) const {
    if (offset > size_ || size > size_ - offset) return false;
    memcpy(out, data_ + offset, size);
    return true;
}

std::optional<uint64_t> MappedElfFile::vaddr_of_offset(uint64_t offset) const {
    for (const Segment& s : segments_) {
        if (offset >= s.offset && offset < s.offset + s.filesz) return offset - s.offset + s.vaddr;
    }
    return std::nullopt;
}

const MappedElfFile* MappedElfFiles::get(const std::string& path, uint64_t inode) {
    auto key = std::make_pair(path, inode);
    auto it = files_.find(key);
    if (it == files_.end()) it = files_.emplace(key, MappedElfFile::open(path, inode)).first;
    return it->second.get();
}

}  // namespace cowtrace::collector

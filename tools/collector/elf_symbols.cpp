#include "elf_symbols.hpp"

#include <cxxabi.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace cowtrace::collector {

namespace {

class MappedFile {
public:
    explicit MappedFile(const std::string& path) {
        int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        struct stat st {};
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
            void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
            if (p != MAP_FAILED) {
                data_ = static_cast<const uint8_t*>(p);
                size_ = static_cast<size_t>(st.st_size);
            }
        }
        close(fd);
    }
    ~MappedFile() {
        if (data_) munmap(const_cast<uint8_t*>(data_), size_);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    // A pointer to count objects of T at offset, or nullptr if they do not fit in the file.
    template <class T>
    const T* at(uint64_t offset, uint64_t count = 1) const {
        if (!data_ || offset > size_ || count > (size_ - offset) / sizeof(T)) return nullptr;
        return reinterpret_cast<const T*>(data_ + offset);
    }
    size_t size() const { return size_; }

private:
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

std::string demangle(const char* name) {
    int status = 0;
    std::unique_ptr<char, decltype(&free)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             &free);
    return status == 0 && d ? std::string(d.get()) : std::string(name);
}

}  // namespace

bool ElfSymbols::load(const std::string& path) {
    MappedFile f(path);
    const Elf64_Ehdr* eh = f.at<Elf64_Ehdr>(0);
    if (eh == nullptr || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_phentsize != sizeof(Elf64_Phdr) ||
        (eh->e_shnum != 0 && eh->e_shentsize != sizeof(Elf64_Shdr))) {
        return false;
    }
    if (const auto* ph = f.at<Elf64_Phdr>(eh->e_phoff, eh->e_phnum)) {
        for (int i = 0; i < eh->e_phnum; ++i) {
            if (ph[i].p_type == PT_LOAD) {
                segments_.push_back({ph[i].p_offset, ph[i].p_vaddr, ph[i].p_filesz});
            }
        }
    }
    const auto* sh = f.at<Elf64_Shdr>(eh->e_shoff, eh->e_shnum);
    if (sh == nullptr) return true;
    // Prefer the full symbol table; a stripped file still has the dynamic one.
    for (uint32_t wanted : {static_cast<uint32_t>(SHT_SYMTAB), static_cast<uint32_t>(SHT_DYNSYM)}) {
        for (int i = 0; i < eh->e_shnum; ++i) {
            if (sh[i].sh_type != wanted || sh[i].sh_link >= eh->e_shnum) continue;
            const Elf64_Shdr& strtab = sh[sh[i].sh_link];
            const auto* syms = f.at<Elf64_Sym>(sh[i].sh_offset, sh[i].sh_size / sizeof(Elf64_Sym));
            const char* strings = f.at<char>(strtab.sh_offset, strtab.sh_size);
            if (syms == nullptr || strings == nullptr) continue;
            for (uint64_t k = 0; k < sh[i].sh_size / sizeof(Elf64_Sym); ++k) {
                const Elf64_Sym& s = syms[k];
                if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_value == 0) continue;
                if (s.st_name >= strtab.sh_size) continue;
                size_t max = strtab.sh_size - s.st_name;
                const char* n = strings + s.st_name;
                symbols_.push_back({s.st_value, s.st_size, std::string(n, strnlen(n, max))});
            }
        }
        if (!symbols_.empty()) break;
    }
    std::sort(symbols_.begin(), symbols_.end(),
              [](const Symbol& a, const Symbol& b) { return a.start < b.start; });
    return true;
}

std::optional<uint64_t> ElfSymbols::vaddr_of_offset(uint64_t file_offset) const {
    for (const auto& s : segments_) {
        if (file_offset >= s.offset && file_offset < s.offset + s.filesz) {
            return file_offset - s.offset + s.vaddr;
        }
    }
    return std::nullopt;
}

std::string ElfSymbols::name_of(uint64_t vaddr) const {
    auto it = std::upper_bound(symbols_.begin(), symbols_.end(), vaddr,
                               [](uint64_t v, const Symbol& s) { return v < s.start; });
    if (it == symbols_.begin()) return {};
    --it;
    uint64_t off = vaddr - it->start;
    if (it->size != 0 && off >= it->size) return {};
    char hex[32];
    snprintf(hex, sizeof hex, "+0x%llx", static_cast<unsigned long long>(off));
    return demangle(it->name.c_str()) + hex;
}

}  // namespace cowtrace::collector

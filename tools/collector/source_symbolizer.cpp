#include "source_symbolizer.hpp"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gelf.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>

namespace cowtrace::collector {

namespace {

// The ELF file is reported with its path (dwfl_report_elf): libdwfl never asks for it.
int no_elf(Dwfl_Module*, void**, const char*, Dwarf_Addr, char**, Elf**) {
    return -1;
}

// Whether the file at fd is the separate debug information of a module whose build-id is
// `bits`: a stale debug file left beside a rebuilt program would name the wrong lines. A module
// without a build-id accepts any (as gdb does without a CRC check).
bool debug_file_matches(int fd, const unsigned char* bits, int len) {
    if (len <= 0) return true;
    Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
    if (elf == nullptr) return false;
    const void* other = nullptr;
    ssize_t other_len = dwelf_elf_gnu_build_id(elf, &other);
    bool same = other_len == len && memcmp(other, bits, static_cast<size_t>(len)) == 0;
    elf_end(elf);
    return same;
}

int open_debug_file(const std::string& path, const unsigned char* bits, int len,
                    char** debuginfo_file_name) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    if (!debug_file_matches(fd, bits, len)) {
        close(fd);
        return -1;
    }
    if (debuginfo_file_name != nullptr) *debuginfo_file_name = strdup(path.c_str());
    return fd;
}

// Separate debug information where Debian's -dbgsym packages put it (by build-id), else where
// the file's .gnu_debuglink names it: beside the file, in .debug/ beside it, or under
// /usr/lib/debug/ by the file's directory (gdb's places). dwfl_standard_find_debuginfo would
// also ask a debuginfod server when DEBUGINFOD_URLS is set, and wait up to its timeout for each
// library at the end of a run.
int find_separate_debuginfo(Dwfl_Module* mod, void**, const char*, Dwarf_Addr,
                            const char* file_name, const char* debuglink_file, GElf_Word,
                            char** debuginfo_file_name) {
    const unsigned char* bits = nullptr;
    GElf_Addr vaddr = 0;
    int len = dwfl_module_build_id(mod, &bits, &vaddr);
    if (len >= 2 && bits != nullptr) {
        std::string path = fmt::format("/usr/lib/debug/.build-id/{:02x}/", bits[0]);
        for (int i = 1; i < len; ++i) path += fmt::format("{:02x}", bits[i]);
        path += ".debug";
        int fd = open_debug_file(path, bits, len, debuginfo_file_name);
        if (fd >= 0) return fd;
    }
    if (debuglink_file == nullptr || *debuglink_file == '\0' || file_name == nullptr) return -1;
    std::string file = file_name;
    std::string dir = file.substr(0, file.rfind('/') + 1);  // with its slash; "" if none
    for (const std::string& path : {dir + debuglink_file, dir + ".debug/" + debuglink_file,
                                    std::string("/usr/lib/debug/") + dir + debuglink_file}) {
        if (path == file) continue;  // the file names itself: nothing separate
        int fd = open_debug_file(path, bits, len, debuginfo_file_name);
        if (fd >= 0) return fd;
    }
    return -1;
}

char* no_debuginfo_path = nullptr;  // libdwfl's search path: only find_debuginfo above
const Dwfl_Callbacks kCallbacks = {
    .find_elf = no_elf,
    .find_debuginfo = find_separate_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &no_debuginfo_path,
};

std::string base_name(const std::string& path) {
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string demangled(const char* name) {
    if (name == nullptr) return "";
    if (name[0] != '_' || name[1] != 'Z') return name;
    int status = 0;
    char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status != 0 || out == nullptr) return name;
    std::string s = out;
    free(out);
    return s;
}

// The function symbols of a module (.symtab, else .dynsym) sorted by address, read once:
// dwfl_module_addrinfo scans the whole table for each address (over 100 µs in a large program).
class SymbolIndex {
public:
    // The name of the function symbol holding addr (a module address), without its symbol
    // version ("__libc_start_main@@GLIBC_2.34"); empty if none.
    std::string name_at(Dwfl_Module* mod, Dwarf_Addr addr) {
        if (!built_) build(mod);
        auto after = std::upper_bound(entries_.begin(), entries_.end(), addr,
                                      [](Dwarf_Addr a, const Entry& e) { return a < e.start; });
        if (after == entries_.begin()) return "";
        auto holder = entries_.end();
        auto it = after;
        for (int steps = 0; it != entries_.begin() && steps < 8; ++steps) {
            --it;
            if (addr < it->end) {
                holder = it;
                break;
            }
        }
        // No sized symbol holds it: the nearest one before it without a size (assembly).
        if (holder == entries_.end() && std::prev(after)->end == std::prev(after)->start)
            holder = std::prev(after);
        if (holder == entries_.end()) return "";
        while (holder != entries_.begin() && std::prev(holder)->start == holder->start &&
               std::prev(holder)->end == holder->end)
            --holder;  // of aliases, the best bound (sorted first)
        std::string name = holder->name;
        return name.substr(0, name.find('@'));
    }

private:
    struct Entry {
        Dwarf_Addr start = 0, end = 0;  // end == start: no size
        int rank = 0;                   // global 0, weak 1, local 2
        const char* name = nullptr;     // in libelf's data, alive with the module
    };

    void build(Dwfl_Module* mod) {
        built_ = true;
        int count = dwfl_module_getsymtab(mod);
        for (int i = 1; i < count; ++i) {
            GElf_Sym sym;
            GElf_Addr addr = 0;
            GElf_Word shndx = 0;
            const char* name =
                dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, nullptr, nullptr);
            if (name == nullptr || *name == '\0' || shndx == SHN_UNDEF) continue;
            int type = GELF_ST_TYPE(sym.st_info);
            if (type != STT_FUNC && type != STT_GNU_IFUNC) continue;
            int bind = GELF_ST_BIND(sym.st_info);
            int rank = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
            entries_.push_back({addr, addr + sym.st_size, rank, name});
        }
        std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
            return a.start != b.start ? a.start < b.start : a.rank < b.rank;
        });
    }

    bool built_ = false;
    std::vector<Entry> entries_;
};

// A function's name from DWARF: its linkage name demangled (qualified, with parameters), else,
// for the function holding the address, the symbol table's when it is a C++ name (C++ in an
// anonymous namespace has no linkage name in DWARF), else its plain name (C: the symbol table
// would say "f.constprop.0" for a clone of f). An inlined subroutine's DIE names its function
// through DW_AT_abstract_origin, a method's through DW_AT_specification: the _integrate lookups
// follow.
std::string function_name(Dwarf_Die* die, Dwfl_Module* mod, SymbolIndex& symbols, Dwarf_Addr addr) {
    Dwarf_Attribute attr;
    const char* linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
    if (linkage == nullptr)
        linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
    if (linkage != nullptr) return demangled(linkage);
    if (dwarf_tag(die) == DW_TAG_subprogram) {
        std::string symbol = symbols.name_at(mod, addr);
        if (symbol.starts_with("_Z")) return demangled(symbol.c_str());
    }
    const char* name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
    return name != nullptr ? name : "";
}

// A function defined in a CU, by address range (a function in several ranges, e.g. with a
// .cold part, has several).
struct FunctionRange {
    Dwarf_Addr low = 0, high = 0;
    Dwarf_Die die;
};
// Per CU (by its DIE's offset): its functions sorted by address. dwarf_getscopes walks the whole
// CU for every address (about a millisecond in a C++ CU); the index is built once per CU.
using FunctionIndex = std::map<Dwarf_Off, std::vector<FunctionRange>>;

// Function definitions sit at the top of a CU or in namespaces (C++ methods defined out of their
// class too, with DW_AT_specification); types and variables are not entered.
void collect_functions(Dwarf_Die* parent, std::vector<FunctionRange>& out, int depth) {
    Dwarf_Die child;
    if (depth > 32 || dwarf_child(parent, &child) != 0) return;
    do {
        int tag = dwarf_tag(&child);
        if (tag == DW_TAG_subprogram) {
            Dwarf_Addr base = 0, low = 0, high = 0;
            ptrdiff_t offset = 0;
            while ((offset = dwarf_ranges(&child, offset, &base, &low, &high)) > 0) {
                if (low < high) out.push_back({low, high, child});
            }
        } else if (tag == DW_TAG_namespace || tag == DW_TAG_module) {
            collect_functions(&child, out, depth + 1);
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

const FunctionRange* function_at(FunctionIndex& index, Dwarf_Die* cu, Dwarf_Addr pc) {
    auto it = index.find(dwarf_dieoffset(cu));
    if (it == index.end()) {
        std::vector<FunctionRange> functions;
        collect_functions(cu, functions, 0);
        std::sort(functions.begin(), functions.end(),
                  [](const FunctionRange& a, const FunctionRange& b) { return a.low < b.low; });
        it = index.emplace(dwarf_dieoffset(cu), std::move(functions)).first;
    }
    const std::vector<FunctionRange>& functions = it->second;
    auto after = std::upper_bound(functions.begin(), functions.end(), pc,
                                  [](Dwarf_Addr a, const FunctionRange& r) { return a < r.low; });
    // Functions do not overlap; a few steps back allow for a nested one listed twice.
    for (int steps = 0; after != functions.begin() && steps < 4; ++steps) {
        --after;
        if (pc < after->high) return &*after;
    }
    return nullptr;
}

// Appends the inlined subroutines around pc inside parent, outermost first; lexical blocks are
// looked into (those without an address range too: they may still hold inlined code).
bool append_inlined(Dwarf_Die* parent, Dwarf_Addr pc, std::vector<Dwarf_Die>& chain, int depth) {
    Dwarf_Die child;
    if (depth > 64 || dwarf_child(parent, &child) != 0) return false;
    do {
        int tag = dwarf_tag(&child);
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_lexical_block) continue;
        bool ranged = dwarf_hasattr(&child, DW_AT_low_pc) || dwarf_hasattr(&child, DW_AT_ranges);
        if (ranged && dwarf_haspc(&child, pc) != 1) continue;
        if (tag == DW_TAG_inlined_subroutine) {
            if (!ranged) continue;
            chain.push_back(child);
            append_inlined(&child, pc, chain, depth + 1);
            return true;
        }
        if (append_inlined(&child, pc, chain, depth + 1) || ranged) return true;
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
}

// The DIEs of the function holding pc and of the inlined subroutines around it, outermost
// first: from the index, else from dwarf_getscopes (a layout the index does not know). Past an
// inlined subroutine, dwarf_getscopes goes on with the callee's abstract definition; its callers
// are the DIEs around the inlined one, which dwarf_getscopes_die gives (as eu-addr2line -i).
std::vector<Dwarf_Die> function_chain(FunctionIndex& index, Dwarf_Die* cu, Dwarf_Addr pc) {
    std::vector<Dwarf_Die> chain;
    if (const FunctionRange* f = function_at(index, cu, pc)) {
        chain.push_back(f->die);
        append_inlined(&chain.back(), pc, chain, 0);
        return chain;
    }
    Dwarf_Die* scopes = nullptr;
    int n = dwarf_getscopes(cu, pc, &scopes);
    Dwarf_Die innermost;
    bool found = false;
    for (int i = 0; i < n && !found; ++i) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
            innermost = scopes[i];
            found = true;
        }
    }
    free(scopes);
    if (!found) return chain;
    scopes = nullptr;
    n = dwarf_getscopes_die(&innermost, &scopes);
    for (int i = n - 1; i >= 0; --i) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_subprogram) chain.clear();  // the outermost function starts the chain
        if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine)
            chain.push_back(scopes[i]);
    }
    free(scopes);
    if (chain.empty()) chain.push_back(innermost);
    return chain;
}

// A compilation unit by the address ranges of its DIE.
struct UnitRange {
    Dwarf_Addr low = 0, high = 0;  // module addresses
    Dwarf_Die* cu = nullptr;       // owned by libdwfl
    Dwarf_Addr bias = 0;
};

// The CU holding a module address. dwfl_module_addrdie reads .debug_aranges, which clang does not
// write by default: without it, the units' own ranges, read once per file.
Dwarf_Die* unit_at(Dwfl_Module* mod, std::optional<std::vector<UnitRange>>& units, Dwarf_Addr addr,
                   Dwarf_Addr* bias) {
    if (Dwarf_Die* cu = dwfl_module_addrdie(mod, addr, bias)) return cu;
    if (!units) {
        units.emplace();
        Dwarf_Die* cu = nullptr;
        Dwarf_Addr cu_bias = 0;
        while ((cu = dwfl_module_nextcu(mod, cu, &cu_bias)) != nullptr) {
            Dwarf_Addr base = 0, low = 0, high = 0;
            ptrdiff_t offset = 0;
            while ((offset = dwarf_ranges(cu, offset, &base, &low, &high)) > 0) {
                if (low < high) units->push_back({low + cu_bias, high + cu_bias, cu, cu_bias});
            }
        }
        std::sort(units->begin(), units->end(),
                  [](const UnitRange& a, const UnitRange& b) { return a.low < b.low; });
    }
    auto after = std::upper_bound(units->begin(), units->end(), addr,
                                  [](Dwarf_Addr a, const UnitRange& r) { return a < r.low; });
    for (int steps = 0; after != units->begin() && steps < 4; ++steps) {
        --after;
        if (addr < after->high) {
            *bias = after->bias;
            return after->cu;
        }
    }
    return nullptr;
}

// Frames from DWARF: the line table gives the innermost position; each inlined subroutine
// around the address gives its caller's position (DW_AT_call_file/line), up to the function.
std::vector<SourceFrame> dwarf_frames(Dwfl_Module* mod, FunctionIndex& index,
                                      std::optional<std::vector<UnitRange>>& units,
                                      SymbolIndex& symbols, Dwarf_Addr addr) {
    std::vector<SourceFrame> frames;
    Dwarf_Addr cu_bias = 0;
    Dwarf_Die* cu = unit_at(mod, units, addr, &cu_bias);
    if (cu == nullptr) return frames;
    std::vector<Dwarf_Die> chain = function_chain(index, cu, addr - cu_bias);
    if (chain.empty() || dwarf_tag(&chain.front()) != DW_TAG_subprogram) return frames;

    std::string file;
    int line = 0;
    if (Dwarf_Line* l = dwarf_getsrc_die(cu, addr - cu_bias)) {
        int lineno = 0;
        const char* src = dwarf_linesrc(l, nullptr, nullptr);
        if (src != nullptr && dwarf_lineno(l, &lineno) == 0) {
            file = src;
            line = lineno;
        }
    }
    Dwarf_Files* files = nullptr;
    size_t file_count = 0;
    bool have_files = dwarf_getsrcfiles(cu, &files, &file_count) == 0;

    for (auto die = chain.rbegin(); die != chain.rend(); ++die) {
        SourceFrame frame;
        frame.function = function_name(&*die, mod, symbols, addr);
        frame.file = file;
        frame.line = line;
        frame.inlined = dwarf_tag(&*die) == DW_TAG_inlined_subroutine;
        frames.push_back(std::move(frame));
        file.clear();
        line = 0;
        Dwarf_Attribute attr;
        Dwarf_Word value = 0;
        if (have_files && dwarf_formudata(dwarf_attr(&*die, DW_AT_call_file, &attr), &value) == 0 &&
            value < file_count) {
            const char* src = dwarf_filesrc(files, value, nullptr, nullptr);
            if (src != nullptr) file = src;
        }
        if (dwarf_formudata(dwarf_attr(&*die, DW_AT_call_line, &attr), &value) == 0)
            line = static_cast<int>(value);
    }
    return frames;
}

}  // namespace

struct SourceSymbolizer::File {
    struct Load {
        uint64_t offset, vaddr, filesz;
    };
    Dwfl* dwfl = nullptr;
    Dwfl_Module* module = nullptr;  // null: not an ELF file libdwfl could read
    Dwarf_Addr bias = 0;            // the module's addresses are ELF addresses + bias
    std::vector<Load> loads;
    FunctionIndex functions;
    std::optional<std::vector<UnitRange>> units;  // read on the first address aranges miss
    SymbolIndex symbols;
    // Frames already found, by the file offset looked up: call sites repeat (a fork loop, the
    // children of one parent), and so do the addresses an unwinder sees.
    std::unordered_map<uint64_t, std::vector<SourceFrame>> found;
    static constexpr size_t kMaxFound = 1 << 16;

    ~File() {
        if (dwfl != nullptr) dwfl_end(dwfl);
    }

    std::optional<Dwarf_Addr> address_of(uint64_t file_offset) const {
        for (const Load& l : loads) {
            if (file_offset >= l.offset && file_offset - l.offset < l.filesz)
                return l.vaddr + (file_offset - l.offset) + bias;
        }
        return std::nullopt;
    }
};

SourceSymbolizer::SourceSymbolizer() = default;
SourceSymbolizer::~SourceSymbolizer() = default;
SourceSymbolizer::SourceSymbolizer(SourceSymbolizer&&) noexcept = default;
SourceSymbolizer& SourceSymbolizer::operator=(SourceSymbolizer&&) noexcept = default;

SourceSymbolizer::File& SourceSymbolizer::file_of(const std::string& path) {
    auto it = files_.find(path);
    if (it != files_.end()) return *it->second;
    if (files_.size() >= kMaxCachedFiles) files_.clear();
    auto file = std::make_unique<File>();
    file->dwfl = dwfl_begin(&kCallbacks);
    if (file->dwfl != nullptr) {
        dwfl_report_begin(file->dwfl);
        // base 0, add_p_vaddr: the module's addresses are the ELF file's own.
        file->module =
            dwfl_report_elf(file->dwfl, base_name(path).c_str(), path.c_str(), -1, 0, true);
        dwfl_report_end(file->dwfl, nullptr, nullptr);
    }
    Elf* elf = file->module != nullptr ? dwfl_module_getelf(file->module, &file->bias) : nullptr;
    size_t count = 0;
    if (elf != nullptr && elf_getphdrnum(elf, &count) == 0) {
        for (size_t i = 0; i < count; ++i) {
            GElf_Phdr phdr;
            if (gelf_getphdr(elf, static_cast<int>(i), &phdr) == nullptr) continue;
            if (phdr.p_type != PT_LOAD) continue;
            file->loads.push_back({phdr.p_offset, phdr.p_vaddr, phdr.p_filesz});
        }
    }
    if (file->loads.empty()) file->module = nullptr;
    return *files_.emplace(path, std::move(file)).first->second;
}

std::vector<SourceFrame> SourceSymbolizer::frames_at(const std::string& path, uint64_t file_offset,
                                                     bool is_return_address) {
    // A return address follows the call: the call instruction is the byte before.
    uint64_t at = is_return_address && file_offset > 0 ? file_offset - 1 : file_offset;
    std::vector<SourceFrame> frames;
    try {
        File& file = file_of(path);
        auto known = file.found.find(at);
        if (known != file.found.end()) return known->second;
        std::optional<Dwarf_Addr> addr =
            file.module != nullptr ? file.address_of(at) : std::nullopt;
        if (addr) {
            frames = dwarf_frames(file.module, file.functions, file.units, file.symbols, *addr);
            if (frames.empty()) {
                SourceFrame frame;
                frame.function = demangled(file.symbols.name_at(file.module, *addr).c_str());
                if (!frame.function.empty()) frames.push_back(std::move(frame));
            }
        }
        if (frames.empty()) frames.emplace_back();
        for (SourceFrame& f : frames) f.module = base_name(path);
        if (file.found.size() >= File::kMaxFound) file.found.clear();
        file.found.emplace(at, frames);
        return frames;
    } catch (...) {
        // Out of memory: the address stays unnamed.
    }
    SourceFrame unknown;
    unknown.module = base_name(path);
    return {unknown};
}

std::string SourceSymbolizer::describe(const SourceFrame& frame, uint64_t file_offset) {
    std::string where =
        frame.file.empty() ? "" : fmt::format("{}:{}", base_name(frame.file), frame.line);
    if (frame.function.empty()) {
        std::string at = fmt::format("{}+{:#x}", frame.module, file_offset);
        return where.empty() ? at : fmt::format("{} ({})", at, where);
    }
    return where.empty() ? frame.function : fmt::format("{} ({})", frame.function, where);
}

}  // namespace cowtrace::collector

#include "sampled_stack_unwinder.hpp"

#include <libunwind.h>

#include <algorithm>
#include <cstring>

// Exported by libunwind-x86_64 but declared in no public header of libunwind 1.6 (1.7 has the
// public unw_get_proc_info_in_range): the remote-table search perf uses too.
extern "C" int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip,
                                                  unw_dyn_info_t* di, unw_proc_info_t* pi,
                                                  int need_unwind_info, void* arg);

namespace cowtrace::collector {

struct SampledStackUnwinder::Call {
    SampledStackUnwinder* self;
    const FaultSample* sample;
};

namespace {

// libunwind's x86_64 register numbers → the sample's register order (AX BX CX DX SI DI BP SP IP
// R8..R15).
int sample_register(unw_regnum_t reg) {
    switch (reg) {
        case UNW_X86_64_RAX:
            return 0;
        case UNW_X86_64_RDX:
            return 3;
        case UNW_X86_64_RCX:
            return 2;
        case UNW_X86_64_RBX:
            return 1;
        case UNW_X86_64_RSI:
            return 4;
        case UNW_X86_64_RDI:
            return 5;
        case UNW_X86_64_RBP:
            return 6;
        case UNW_X86_64_RSP:
            return 7;
        case UNW_X86_64_RIP:
            return 8;
        default:
            if (reg >= UNW_X86_64_R8 && reg <= UNW_X86_64_R15) return 9 + (reg - UNW_X86_64_R8);
            return -1;
    }
}

}  // namespace

struct UnwindAccessors {
    using Call = SampledStackUnwinder::Call;

    static int find_proc_info(unw_addr_space_t, unw_word_t ip, unw_proc_info_t* pi,
                              int need_unwind_info, void* arg) {
        auto* call = static_cast<Call*>(arg);
        return call->self->find_proc_info(ip, pi, need_unwind_info, arg);
    }
    static void put_unwind_info(unw_addr_space_t, unw_proc_info_t*, void*) {}
    static int get_dyn_info_list_addr(unw_addr_space_t, unw_word_t*, void*) { return -UNW_ENOINFO; }
    static int access_mem(unw_addr_space_t, unw_word_t address, unw_word_t* value, int write,
                          void* arg) {
        if (write) return -UNW_EINVAL;
        auto* call = static_cast<Call*>(arg);
        uint64_t v = 0;
        if (!call->self->read_word(*call, address, v)) return -UNW_EINVAL;
        *value = v;
        return 0;
    }
    static int access_reg(unw_addr_space_t, unw_regnum_t reg, unw_word_t* value, int write,
                          void* arg) {
        auto* call = static_cast<Call*>(arg);
        int i = sample_register(reg);
        if (write || i < 0 || !call->sample->has_registers) return -UNW_EBADREG;
        *value = call->sample->registers[i];
        return 0;
    }
    static int access_fpreg(unw_addr_space_t, unw_regnum_t, unw_fpreg_t*, int, void*) {
        return -UNW_EBADREG;
    }
    static int resume(unw_addr_space_t, unw_cursor_t*, void*) { return -UNW_EINVAL; }
    static int get_proc_name(unw_addr_space_t, unw_word_t, char*, size_t, unw_word_t*, void*) {
        return -UNW_EINVAL;
    }
};

namespace {

unw_accessors_t accessors = {
    UnwindAccessors::find_proc_info,
    UnwindAccessors::put_unwind_info,
    UnwindAccessors::get_dyn_info_list_addr,
    UnwindAccessors::access_mem,
    UnwindAccessors::access_reg,
    UnwindAccessors::access_fpreg,
    UnwindAccessors::resume,
    UnwindAccessors::get_proc_name,
};

}  // namespace

SampledStackUnwinder::SampledStackUnwinder(pid_t pid, MappedElfFiles& files)
    : pid_(pid), files_(files) {
    refresh();
    unw_addr_space_t as = unw_create_addr_space(&accessors, 0);
    if (as != nullptr) unw_set_caching_policy(as, UNW_CACHE_GLOBAL);
    address_space_ = as;
}

SampledStackUnwinder::~SampledStackUnwinder() {
    if (address_space_ != nullptr)
        unw_destroy_addr_space(static_cast<unw_addr_space_t>(address_space_));
}

bool SampledStackUnwinder::refresh() {
    std::vector<Mapping> maps;
    if (!read_maps(pid_, maps)) return false;
    std::sort(maps.begin(), maps.end(),
              [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
    mappings_ = std::move(maps);
    if (address_space_ != nullptr)
        unw_flush_cache(static_cast<unw_addr_space_t>(address_space_), 0, 0);
    return true;
}

const Mapping* SampledStackUnwinder::mapping_of(uint64_t address) const {
    auto it = std::upper_bound(mappings_.begin(), mappings_.end(), address,
                               [](uint64_t a, const Mapping& m) { return a < m.start; });
    if (it == mappings_.begin()) return nullptr;
    --it;
    return address < it->end ? &*it : nullptr;
}

const MappedElfFile* SampledStackUnwinder::file_of(const Mapping& m) {
    if (m.path.empty() || m.path[0] != '/' || m.inode == 0) return nullptr;
    if (const MappedElfFile* f = files_.get(m.path, m.inode)) return f;
    // Another mount namespace (a container): the file as the process sees it.
    return files_.get("/proc/" + std::to_string(pid_) + "/root" + m.path, m.inode);
}

bool SampledStackUnwinder::read_word(const Call& call, uint64_t address, uint64_t& value) {
    const FaultSample& s = *call.sample;
    uint64_t sp = s.has_registers ? s.registers[7] : 0;
    if (s.stack != nullptr && address >= sp && address - sp <= s.stack_size - sizeof value &&
        s.stack_size >= sizeof value) {
        memcpy(&value, s.stack + (address - sp), sizeof value);
        return true;
    }
    // Code, unwind tables and read-only data: from the file the process mapped.
    const Mapping* m = mapping_of(address);
    if (m == nullptr || m->writable) return false;
    const MappedElfFile* f = file_of(*m);
    return f != nullptr && f->read(m->offset + (address - m->start), &value, sizeof value);
}

int SampledStackUnwinder::find_proc_info(uint64_t ip, void* proc_info, int need_unwind_info,
                                         void* arg) {
    const Mapping* m = mapping_of(ip);
    if (m == nullptr && !refreshed_this_sample_) {
        refreshed_this_sample_ = true;
        refresh();
        m = mapping_of(ip);
    }
    if (m == nullptr || !m->executable) return -UNW_ENOINFO;
    const MappedElfFile* f = file_of(*m);
    if (f == nullptr || !f->eh_frame_header()) return -UNW_ENOINFO;
    auto vaddr = f->vaddr_of_offset(m->offset + (ip - m->start));
    if (!vaddr) return -UNW_ENOINFO;
    uint64_t bias = ip - *vaddr;
    const auto& hdr = *f->eh_frame_header();
    unw_dyn_info_t di;
    memset(&di, 0, sizeof di);
    di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
    di.start_ip = m->start;
    di.end_ip = m->end;
    di.u.rti.segbase = hdr.vaddr + bias;
    di.u.rti.table_data = hdr.vaddr + bias + 12;
    di.u.rti.table_len = hdr.fde_count * 8 / sizeof(unw_word_t);
    return _Ux86_64_dwarf_search_unwind_table(static_cast<unw_addr_space_t>(address_space_), ip,
                                              &di, static_cast<unw_proc_info_t*>(proc_info),
                                              need_unwind_info, arg);
}

std::vector<UnwoundFrame> SampledStackUnwinder::unwind(const FaultSample& sample,
                                                       size_t max_frames) {
    std::vector<UnwoundFrame> frames;
    refreshed_this_sample_ = false;
    auto add = [&](uint64_t pc) {
        UnwoundFrame f;
        f.pc = pc;
        f.return_address = !frames.empty();
        const Mapping* m = mapping_of(pc);
        if (m == nullptr && !refreshed_this_sample_) {
            refreshed_this_sample_ = true;
            refresh();
            m = mapping_of(pc);
        }
        if (m != nullptr && !m->path.empty() && m->path[0] == '/') {
            f.module = m->path;
            f.file_offset = m->offset + (pc - m->start);
        }
        frames.push_back(std::move(f));
    };
    if (!sample.has_registers || address_space_ == nullptr) {
        add(sample.ip);
        return frames;
    }
    Call call{this, &sample};
    unw_cursor_t cursor;
    if (unw_init_remote(&cursor, static_cast<unw_addr_space_t>(address_space_), &call) != 0) {
        add(sample.ip);
        return frames;
    }
    do {
        unw_word_t pc = 0;
        if (unw_get_reg(&cursor, UNW_REG_IP, &pc) != 0 || pc == 0) break;
        add(pc);
    } while (frames.size() < max_frames && unw_step(&cursor) > 0);
    if (frames.empty()) add(sample.ip);
    return frames;
}

}  // namespace cowtrace::collector

#include "call_site_symbolizer.hpp"

#include <algorithm>
#include <cstdio>

namespace cowtrace::collector {

namespace {
const Mapping* covering(const std::vector<Mapping>& maps, uint64_t ip) {
    for (const auto& m : maps) {
        if (ip >= m.start && ip < m.end && m.executable) return &m;
    }
    return nullptr;
}
}  // namespace

void CallSiteSymbolizer::note(pid_t pid, const std::vector<uint64_t>& frames, uint64_t sent_ns) {
    auto image = image_start_ns_.find(pid);
    if (image != image_start_ns_.end() && sent_ns < image->second) return;
    auto& maps = mappings_[pid];
    for (uint64_t ip : frames) {
        if (frames_.count({pid, ip})) continue;
        // A return address points after the call: look up the call itself.
        uint64_t at = ip > 0 ? ip - 1 : ip;
        const Mapping* m = covering(maps, at);
        if (m == nullptr) {
            read_maps(pid, maps);
            m = covering(maps, at);
        }
        Located loc;
        if (m != nullptr && !m->path.empty()) {
            loc.path = m->path;
            loc.file_offset = at - m->start + m->offset;
        }
        frames_[{pid, ip}] = loc;
    }
}

void CallSiteSymbolizer::forget_mappings(pid_t pid, uint64_t t_ns) {
    mappings_.erase(pid);
    uint64_t& start = image_start_ns_[pid];
    start = std::max(start, t_ns);
}

std::vector<std::pair<std::pair<pid_t, uint64_t>, std::string>> CallSiteSymbolizer::resolve() {
    std::vector<std::pair<std::pair<pid_t, uint64_t>, std::string>> out;
    for (const auto& [key, loc] : frames_) {
        if (loc.path.empty()) continue;
        auto it = files_.find(loc.path);
        if (it == files_.end()) {
            ElfSymbols symbols;
            symbols.load(loc.path);
            it = files_.emplace(loc.path, std::move(symbols)).first;
        }
        std::string module = loc.path.substr(loc.path.rfind('/') + 1);
        std::string name;
        if (auto vaddr = it->second.vaddr_of_offset(loc.file_offset)) name = it->second.name_of(*vaddr);
        if (name.empty()) {
            char hex[32];
            snprintf(hex, sizeof hex, "+0x%llx", static_cast<unsigned long long>(loc.file_offset));
            name = module + hex;
        } else {
            name += " (" + module + ")";
        }
        out.push_back({key, name});
    }
    return out;
}

}  // namespace cowtrace::collector

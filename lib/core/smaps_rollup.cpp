#include "smaps_rollup.hpp"

#include <cstdint>
#include <cstring>

#include "proc_maps.hpp"

namespace cowtrace {

namespace {

// The value after a field's name, in bytes: spaces, then kB as decimal digits, on this line only.
// Anything else (a sign, a word, more bytes than 64 bits hold) is no value rather than a wrong one.
bool take_kb_as_bytes(const char* p, const char* eol, uint64_t& bytes) {
    constexpr uint64_t kMaxKb = UINT64_MAX / 1024;
    while (p < eol && (*p == ' ' || *p == '\t')) ++p;
    const char* digits = p;
    uint64_t kb = 0;
    for (; p < eol && *p >= '0' && *p <= '9'; ++p) {
        auto d = static_cast<uint64_t>(*p - '0');
        if (kb > (kMaxKb - d) / 10) return false;
        kb = kb * 10 + d;
    }
    if (p == digits) return false;
    bytes = kb * 1024;  // smaps reports kB
    return true;
}

}  // namespace

bool parse_smaps_rollup(const std::string& text, MemoryRollup& out) {
    struct Field {
        const char* name;
        uint64_t* value;
    } fields[] = {{"Rss:", &out.rss_bytes},
                  {"Pss:", &out.pss_bytes},
                  {"Private_Dirty:", &out.private_dirty_bytes},
                  {"Shared_Dirty:", &out.shared_dirty_bytes},
                  {"Anonymous:", &out.anonymous_bytes},
                  {"Swap:", &out.swap_bytes}};
    bool any = false;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        const char* line = text.c_str() + pos;
        for (auto& f : fields) {
            size_t len = strlen(f.name);
            if (strncmp(line, f.name, len) != 0) continue;
            if (take_kb_as_bytes(line + len, text.c_str() + eol, *f.value)) any = true;
        }
        pos = eol + 1;
    }
    return any;
}

bool read_smaps_rollup(pid_t pid, MemoryRollup& out) {
    std::string text;
    if (!read_proc_file("/proc/" + std::to_string(pid) + "/smaps_rollup", text)) return false;
    return parse_smaps_rollup(text, out);
}

}  // namespace cowtrace

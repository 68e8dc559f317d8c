#include "smaps_rollup.hpp"

#include <cstdio>
#include <cstring>

#include "proc_maps.hpp"

namespace cowtrace {

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
            unsigned long long kb = 0;
            if (sscanf(line + len, "%llu", &kb) == 1) {
                *f.value = kb * 1024;  // smaps reports kB
                any = true;
            }
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

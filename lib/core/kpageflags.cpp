#include "kpageflags.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "proc_maps.hpp"

namespace cowtrace::kpageflags {

uint64_t count_flagged(std::vector<uint64_t> pfns, int bit, const FlagsReader& read_flags) {
    uint64_t count = 0;
    std::sort(pfns.begin(), pfns.end());
    std::vector<uint64_t> flags;
    size_t i = 0;
    while (i < pfns.size()) {
        size_t j = i;
        while (j + 1 < pfns.size() && pfns[j + 1] - pfns[j] <= 1 && pfns[j + 1] - pfns[i] < 65536)
            ++j;
        uint64_t first = pfns[i], n = pfns[j] - first + 1;
        flags.resize(n);
        if (read_flags(first, n, flags.data())) {
            for (size_t k = i; k <= j; ++k) count += (flags[pfns[k] - first] >> bit) & 1;
        }
        i = j + 1;
    }
    return count;
}

bool count_with_flag(std::vector<uint64_t> pfns, int bit, uint64_t& count) {
    count = 0;
    int fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    count = count_flagged(std::move(pfns), bit, [fd](uint64_t first, uint64_t n, uint64_t* flags) {
        ssize_t got = pread(fd, flags, n * 8, static_cast<off_t>(first * 8));
        return got == static_cast<ssize_t>(n * 8);
    });
    close(fd);
    return true;
}

uint64_t ksm_merging_pages(pid_t pid) {
    std::string text;
    if (!read_proc_file("/proc/" + std::to_string(pid) + "/ksm_stat", text)) return 0;
    return parse_ksm_merging_pages(text);
}

uint64_t parse_ksm_merging_pages(const std::string& text) {
    const char* key = "ksm_merging_pages ";
    size_t at = text.find(key);
    if (at == std::string::npos) return 0;
    return strtoull(text.c_str() + at + strlen(key), nullptr, 10);
}

}  // namespace cowtrace::kpageflags

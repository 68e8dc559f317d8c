#include "proc_maps.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace cowtrace {

std::string Mapping::region_name() const { return path.empty() ? "[anon]" : path; }

bool Mapping::is_special() const {
    return path == "[vvar]" || path == "[vdso]" || path == "[vsyscall]" || path == "[vvar_vclock]";
}

std::vector<Mapping> parse_maps(const std::string& text) {
    std::vector<Mapping> out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        std::string line = text.substr(pos, eol - pos);
        pos = eol + 1;
        // start-end perms offset dev inode [path]
        Mapping m;
        char perms[5] = {};
        unsigned long long start = 0, end = 0, offset = 0, inode = 0;
        unsigned dev_major = 0, dev_minor = 0;
        int consumed = 0;
        if (sscanf(line.c_str(), "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms, &offset,
                   &dev_major, &dev_minor, &inode, &consumed) < 7) {
            continue;
        }
        m.start = start;
        m.end = end;
        m.readable = perms[0] == 'r';
        m.writable = perms[1] == 'w';
        m.executable = perms[2] == 'x';
        m.shared = perms[3] == 's';
        m.offset = offset;
        m.inode = inode;
        if (consumed > 0 && static_cast<size_t>(consumed) < line.size()) {
            m.path = line.substr(static_cast<size_t>(consumed));
            while (!m.path.empty() && m.path.back() == ' ') m.path.pop_back();
        }
        if (m.end > m.start) out.push_back(std::move(m));
    }
    return out;
}

bool read_proc_file(const std::string& path, std::string& out) {
    out.clear();
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    return !out.empty();
}

bool read_maps(pid_t pid, std::vector<Mapping>& out) {
    std::string text;
    if (!read_proc_file("/proc/" + std::to_string(pid) + "/maps", text)) return false;
    out = parse_maps(text);
    return true;
}

}  // namespace cowtrace

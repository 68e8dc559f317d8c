#include "proc_maps.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace cowtrace {

std::string Mapping::region_name() const {
    return path.empty() ? "[anon]" : path;
}

bool Mapping::is_special() const {
    return path == "[vvar]" || path == "[vdso]" || path == "[vsyscall]" || path == "[vvar_vclock]";
}

namespace {

// Reads a hexadecimal or decimal number at p, advancing it; false if there is none.
bool take_number(const char*& p, const char* end, int base, uint64_t& out) {
    out = 0;
    const char* start = p;
    for (; p < end; ++p) {
        int d;
        char c = *p;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            break;
        out = out * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    }
    return p != start;
}

bool take_char(const char*& p, const char* end, char c) {
    if (p >= end || *p != c) return false;
    ++p;
    return true;
}

void skip_spaces(const char*& p, const char* end) {
    while (p < end && *p == ' ') ++p;
}

// One line: "start-end perms offset major:minor inode [path]". Hand-parsed: the census reads
// maps at every fork and exit, and sscanf showed at the top of the collector's profile.
bool parse_line(const char* p, const char* end, Mapping& m) {
    uint64_t dev = 0;
    if (!take_number(p, end, 16, m.start) || !take_char(p, end, '-') ||
        !take_number(p, end, 16, m.end) || !take_char(p, end, ' ') || end - p < 5) {
        return false;
    }
    m.readable = p[0] == 'r';
    m.writable = p[1] == 'w';
    m.executable = p[2] == 'x';
    m.shared = p[3] == 's';
    p += 4;
    skip_spaces(p, end);
    if (!take_number(p, end, 16, m.offset)) return false;
    skip_spaces(p, end);
    if (!take_number(p, end, 16, dev) || !take_char(p, end, ':') || !take_number(p, end, 16, dev)) {
        return false;
    }
    skip_spaces(p, end);
    if (!take_number(p, end, 10, m.inode)) return false;
    skip_spaces(p, end);
    const char* path_end = end;
    while (path_end > p && path_end[-1] == ' ') --path_end;
    m.path.assign(p, path_end);
    return m.end > m.start;
}

}  // namespace

std::vector<Mapping> parse_maps(const std::string& text) {
    std::vector<Mapping> out;
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
        const char* eol = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
        if (eol == nullptr) eol = end;
        Mapping m;
        if (parse_line(p, eol, m)) out.push_back(std::move(m));
        p = eol + 1;
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

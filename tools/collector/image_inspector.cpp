#include "image_inspector.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "wire/shim_records.hpp"

namespace cowtrace::collector {

namespace {

constexpr int kMaxInterpreterDepth = 4;  // the kernel allows a few nested #! levels

// The four ids of a "Uid:"/"Gid:" line of /proc/<pid>/status: real, effective, saved, fs.
bool parse_ids(const std::string& rest, unsigned (&ids)[4]) {
    std::istringstream in(rest);
    for (unsigned& id : ids) {
        if (!(in >> id)) return false;
    }
    return true;
}

// Permission bits of st that apply to creds (owner, group or other), as the kernel checks them.
unsigned permission_bits(const struct stat& st, const ProcessCredentials& creds) {
    if (st.st_uid == creds.fsuid) return (st.st_mode >> 6) & 7;
    bool in_group = st.st_gid == creds.fsgid;
    for (gid_t g : creds.groups) in_group = in_group || g == st.st_gid;
    return in_group ? (st.st_mode >> 3) & 7 : st.st_mode & 7;
}

// Whether creds may do want (R=4, W=2, X=1) to path; a path that cannot be looked at says
// nothing against it.
bool permits(const std::string& path, unsigned want, const ProcessCredentials& creds) {
    if (creds.fsuid == 0) return true;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return true;
    return (permission_bits(st, creds) & want) == want;
}

std::string directory_of(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

bool read_credentials(pid_t pid, ProcessCredentials& out) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    if (!status) return false;
    bool have_uid = false, have_gid = false;
    std::string line;
    while (std::getline(status, line)) {
        size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon), rest = line.substr(colon + 1);
        unsigned ids[4];
        if (key == "Uid" && parse_ids(rest, ids)) {
            out.euid = ids[1];
            out.fsuid = ids[3];
            have_uid = true;
        } else if (key == "Gid" && parse_ids(rest, ids)) {
            out.egid = ids[1];
            out.fsgid = ids[3];
            have_gid = true;
        } else if (key == "Groups") {
            std::istringstream in(rest);
            unsigned g;
            while (in >> g) out.groups.push_back(g);
        } else if (key == "NoNewPrivs") {
            out.no_new_privs = rest.find('1') != std::string::npos;
        }
    }
    return have_uid && have_gid;
}

ImageInspector::ImageInspector(std::string socket_path, std::string spool_path)
    : socket_path_(std::move(socket_path)), spool_path_(std::move(spool_path)) {}

bool ImageInspector::reachable_by(const ProcessCredentials& creds) const {
    if (!socket_path_.empty()) {
        // connect(2) needs search permission on the directory and write on the socket.
        return permits(directory_of(socket_path_), 1, creds) && permits(socket_path_, 2, creds);
    }
    return spool_path_.empty() || permits(spool_path_, 2, creds);
}

uint32_t ImageInspector::inspect(pid_t pid, const std::string& path, uint32_t euid,
                                 uint32_t egid) const {
    ProcessCredentials creds;
    bool alive = read_credentials(pid, creds);
    if (euid != wire::kUnknownId && egid != wire::kUnknownId) {
        creds.euid = creds.fsuid = euid;
        creds.egid = creds.fsgid = egid;
        alive = true;
    }
    uint32_t flags = inspect_file(path, alive ? &creds : nullptr, 0);
    if (alive && !reachable_by(creds)) flags |= wire::kImageOtherUid;
    return flags;
}

uint32_t ImageInspector::inspect_file(const std::string& path, const ProcessCredentials* creds,
                                      int depth) const {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return wire::kImageUnreadable;
    unsigned char head[256];
    ssize_t n = pread(fd, head, sizeof head, 0);
    struct stat st {};
    struct statvfs fs {};
    bool have_stat = fstat(fd, &st) == 0;
    bool nosuid = fstatvfs(fd, &fs) == 0 && (fs.f_flag & ST_NOSUID);
    bool file_caps = fgetxattr(fd, "security.capability", nullptr, 0) > 0;
    uint32_t flags = 0;
    // A nosuid mount and no_new_privs both cancel set-id bits and file capabilities.
    if (have_stat && creds != nullptr && !nosuid && !creds->no_new_privs) {
        bool setid = ((st.st_mode & S_ISUID) && st.st_uid != creds->euid) ||
                     ((st.st_mode & S_ISGID) && st.st_gid != creds->egid);
        if (setid) flags |= wire::kImageSetid;
        if (creds->euid != 0 && file_caps) flags |= wire::kImageFileCaps;
    }
    if (n < 4) {
        close(fd);
        return flags | wire::kImageUnreadable;
    }

    if (head[0] == '#' && head[1] == '!') {
        close(fd);
        flags |= wire::kImageScript;
        if (depth >= kMaxInterpreterDepth) return flags;
        ssize_t i = 2;
        while (i < n && (head[i] == ' ' || head[i] == '\t')) ++i;
        std::string interpreter;
        while (i < n && head[i] != ' ' && head[i] != '\t' && head[i] != '\n') {
            interpreter += static_cast<char>(head[i++]);
        }
        if (interpreter.empty()) return flags | wire::kImageUnreadable;
        // Set-id bits of a script are ignored by Linux; those of its interpreter are not.
        flags &= ~(wire::kImageSetid | wire::kImageFileCaps);
        return flags | inspect_file(interpreter, creds, depth + 1);
    }

    if (n < static_cast<ssize_t>(sizeof(Elf64_Ehdr)) || memcmp(head, ELFMAG, SELFMAG) != 0) {
        close(fd);
        return flags | wire::kImageNotElf;
    }
    Elf64_Ehdr eh;
    memcpy(&eh, head, sizeof eh);
    if (head[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
        close(fd);
        return flags | wire::kImageForeignArch;
    }
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64) {
        close(fd);
        return flags | wire::kImageUnreadable;
    }
    Elf64_Phdr ph[64];
    size_t bytes = static_cast<size_t>(eh.e_phnum) * sizeof(Elf64_Phdr);
    bool read_all =
        pread(fd, ph, bytes, static_cast<off_t>(eh.e_phoff)) == static_cast<ssize_t>(bytes);
    close(fd);
    if (!read_all) return flags | wire::kImageUnreadable;
    bool has_interp = false;
    for (int i = 0; i < eh.e_phnum; ++i) has_interp = has_interp || ph[i].p_type == PT_INTERP;
    return has_interp ? flags : flags | wire::kImageStatic;
}

}  // namespace cowtrace::collector

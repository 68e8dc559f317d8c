#include "image_probe.hpp"

#include <elf.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/vfs.h>

#include <cstring>

#include "raw_syscall.hpp"
#include "wire/record.hpp"

#ifndef ST_NOSUID
#define ST_NOSUID 2
#endif

namespace cowtrace::shim {

namespace {

constexpr int kMaxInterpreterDepth = 4;  // the kernel allows a few nested #! levels

uint32_t setid_flags(int fd) {
    struct stat st{};
    if (raw_syscall(SYS_fstat, fd, rs_arg(&st)) != 0) return 0;
    uint32_t flags = 0;
    long euid = raw_syscall(SYS_geteuid);
    long egid = raw_syscall(SYS_getegid);
    bool setid = ((st.st_mode & S_ISUID) && static_cast<long>(st.st_uid) != euid) ||
                 ((st.st_mode & S_ISGID) && static_cast<long>(st.st_gid) != egid);
    // A nosuid mount and no_new_privs both cancel set-id bits and file capabilities.
    struct statfs fs{};
    bool nosuid = raw_syscall(SYS_fstatfs, fd, rs_arg(&fs)) == 0 && (fs.f_flags & ST_NOSUID);
    bool nnp = raw_syscall(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
    if (nosuid || nnp) return 0;
    if (setid) flags |= wire::kImageSetid;
    if (euid != 0 &&
        raw_syscall(SYS_fgetxattr, fd, rs_arg("security.capability"), 0, 0) > 0) {
        flags |= wire::kImageFileCaps;
    }
    return flags;
}

uint32_t probe_fd(int fd, int depth);

uint32_t probe_path(int dirfd, const char* path, int at_flags, int depth) {
    int flags = O_RDONLY | O_CLOEXEC;
    if (at_flags & AT_SYMLINK_NOFOLLOW) flags |= O_NOFOLLOW;
    long fd;
    if ((at_flags & AT_EMPTY_PATH) && (path == nullptr || path[0] == '\0')) {
        // fexecve/execveat(fd, ""): reopen what fd refers to for reading.
        char proc[32] = "/proc/self/fd/";
        char digits[12];
        int d = 0;
        for (unsigned v = static_cast<unsigned>(dirfd); v != 0 || d == 0; v /= 10)
            digits[d++] = static_cast<char>('0' + v % 10);
        size_t n = strlen(proc);
        while (d > 0) proc[n++] = digits[--d];
        proc[n] = '\0';
        fd = raw_syscall(SYS_openat, AT_FDCWD, rs_arg(proc), flags, 0);
    } else {
        fd = raw_syscall(SYS_openat, dirfd, rs_arg(path), flags, 0);
    }
    if (fd < 0) return wire::kImageUnreadable;
    uint32_t r = probe_fd(static_cast<int>(fd), depth);
    raw_close(static_cast<int>(fd));
    return r;
}

uint32_t probe_fd(int fd, int depth) {
    unsigned char head[256];
    long n = raw_syscall(SYS_pread64, fd, rs_arg(head), sizeof head, 0);
    if (n < 4) return wire::kImageUnreadable;
    uint32_t flags = setid_flags(fd);

    if (head[0] == '#' && head[1] == '!') {
        flags |= wire::kImageScript;
        if (depth >= kMaxInterpreterDepth) return flags;
        char interp[256];
        long i = 2;
        while (i < n && (head[i] == ' ' || head[i] == '\t')) ++i;
        size_t len = 0;
        while (i < n && head[i] != ' ' && head[i] != '\t' && head[i] != '\n' &&
               len + 1 < sizeof interp) {
            interp[len++] = static_cast<char>(head[i++]);
        }
        interp[len] = '\0';
        if (len == 0) return flags | wire::kImageUnreadable;
        // Set-id bits of a script are ignored by Linux; those of its interpreter are not.
        flags &= ~(wire::kImageSetid | wire::kImageFileCaps);
        return flags | probe_path(AT_FDCWD, interp, 0, depth + 1);
    }

    if (n < static_cast<long>(sizeof(Elf64_Ehdr)) || memcmp(head, ELFMAG, SELFMAG) != 0) {
        return flags | wire::kImageNotElf;
    }
    Elf64_Ehdr eh;
    memcpy(&eh, head, sizeof eh);
    if (head[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
        return flags | wire::kImageForeignArch;
    }
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64) {
        return flags | wire::kImageUnreadable;
    }
    Elf64_Phdr ph[64];
    size_t bytes = static_cast<size_t>(eh.e_phnum) * sizeof(Elf64_Phdr);
    if (raw_syscall(SYS_pread64, fd, rs_arg(ph), bytes, static_cast<long>(eh.e_phoff)) !=
        static_cast<long>(bytes)) {
        return flags | wire::kImageUnreadable;
    }
    bool has_interp = false;
    for (int i = 0; i < eh.e_phnum; ++i) has_interp = has_interp || ph[i].p_type == PT_INTERP;
    if (!has_interp) flags |= wire::kImageStatic;
    return flags;
}

}  // namespace

uint32_t probe_image(const char* path) { return probe_path(AT_FDCWD, path, 0, 0); }

uint32_t probe_image_at(int dirfd, const char* path, int at_flags) {
    return probe_path(dirfd, path, at_flags, 0);
}

bool resolve_in_path(const char* file, const char* path_env, char* out, size_t cap) {
    if (file == nullptr || file[0] == '\0') return false;
    size_t flen = strlen(file);
    if (strchr(file, '/') != nullptr) {
        if (flen + 1 > cap) return false;
        memcpy(out, file, flen + 1);
        return true;
    }
    const char* p = path_env != nullptr ? path_env : "/bin:/usr/bin";
    for (;;) {
        const char* colon = strchr(p, ':');
        size_t dlen = colon ? static_cast<size_t>(colon - p) : strlen(p);
        if (dlen + 1 + flen + 1 <= cap) {
            size_t n = 0;
            if (dlen == 0) {
                out[n++] = '.';  // an empty PATH entry means the current directory
            } else {
                memcpy(out, p, dlen);
                n = dlen;
            }
            out[n++] = '/';
            memcpy(out + n, file, flen + 1);
            if (raw_syscall(SYS_faccessat, AT_FDCWD, rs_arg(out), X_OK, 0) == 0) return true;
        }
        if (colon == nullptr) return false;
        p = colon + 1;
    }
}

}  // namespace cowtrace::shim

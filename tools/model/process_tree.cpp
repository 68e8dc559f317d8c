#include "process_tree.hpp"

namespace cowtrace::model {

const Process* ProcessTree::find_current(pid_t pid) const {
    const Process* found = nullptr;
    for (const auto& p : processes) {
        if (p.pid == pid) found = &p;
    }
    return found;
}

std::vector<size_t> ProcessTree::roots() const {
    std::vector<bool> is_child(processes.size(), false);
    for (const auto& p : processes) {
        for (size_t c : p.children) is_child[c] = true;
    }
    std::vector<size_t> out;
    for (size_t i = 0; i < processes.size(); ++i) {
        if (!is_child[i]) out.push_back(i);
    }
    return out;
}

std::string create_how_name(wire::CreateHow how) {
    switch (how) {
        case wire::CreateHow::kFork: return "fork";
        case wire::CreateHow::kVfork: return "vfork";
        case wire::CreateHow::kUnderscoreFork: return "_Fork";
        case wire::CreateHow::kClone: return "clone";
        case wire::CreateHow::kPosixSpawn: return "posix_spawn";
        case wire::CreateHow::kPosixSpawnp: return "posix_spawnp";
        case wire::CreateHow::kSystem: return "system";
        case wire::CreateHow::kPopen: return "popen";
        case wire::CreateHow::kWordexp: return "wordexp";
        case wire::CreateHow::kDaemon: return "daemon";
        case wire::CreateHow::kForkpty: return "forkpty";
        case wire::CreateHow::kAtfork: return "fork (inside libc)";
        case wire::CreateHow::kRawSyscall: return "raw syscall";
        case wire::CreateHow::kPidfdSpawn: return "pidfd_spawn";
        case wire::CreateHow::kUnknown: break;
    }
    return "unknown";
}

std::string image_flags_text(uint32_t flags) {
    std::string out;
    auto add = [&out](const char* s) {
        if (!out.empty()) out += ",";
        out += s;
    };
    if (flags & wire::kImageStatic) add("static");
    if (flags & wire::kImageSetid) add("setuid/setgid");
    if (flags & wire::kImageFileCaps) add("file-capabilities");
    if (flags & wire::kImageScript) add("script");
    if (flags & wire::kImageNotElf) add("not-elf");
    if (flags & wire::kImageForeignArch) add("foreign-arch");
    if (flags & wire::kImageUnreadable) add("unreadable");
    if (flags & wire::kImageNoPreload) add("no room for LD_PRELOAD: not instrumented");
    if (flags & wire::kImageOtherUid) add("runs as another uid: cannot reach the collector");
    return out;
}

}  // namespace cowtrace::model

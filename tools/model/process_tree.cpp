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
        for (size_t c : children_of(p)) is_child[c] = true;
    }
    std::vector<size_t> out;
    for (size_t i = 0; i < processes.size(); ++i) {
        if (!is_child[i]) out.push_back(i);
    }
    return out;
}

std::string create_how_name(wire::CreateHow how) {
    switch (how) {
        case wire::CreateHow::kFork:
            return "fork";
        case wire::CreateHow::kVfork:
            return "vfork";
        case wire::CreateHow::kUnderscoreFork:
            return "_Fork";
        case wire::CreateHow::kClone:
            return "clone";
        case wire::CreateHow::kPosixSpawn:
            return "posix_spawn";
        case wire::CreateHow::kPosixSpawnp:
            return "posix_spawnp";
        case wire::CreateHow::kSystem:
            return "system";
        case wire::CreateHow::kPopen:
            return "popen";
        case wire::CreateHow::kWordexp:
            return "wordexp";
        case wire::CreateHow::kDaemon:
            return "daemon";
        case wire::CreateHow::kForkpty:
            return "forkpty";
        case wire::CreateHow::kAtfork:
            return "fork (inside libc)";
        case wire::CreateHow::kRawSyscall:
            return "raw syscall";
        case wire::CreateHow::kPidfdSpawn:
            return "pidfd_spawn";
        case wire::CreateHow::kUnknown:
            break;
    }
    return "unknown";
}

void ExecImage::merge(const ExecImage& o) {
    static_binary |= o.static_binary;
    setid |= o.setid;
    file_capabilities |= o.file_capabilities;
    script |= o.script;
    not_elf |= o.not_elf;
    foreign_arch |= o.foreign_arch;
    unreadable |= o.unreadable;
    without_library |= o.without_library;
    other_uid |= o.other_uid;
}

bool ExecImage::any() const {
    return static_binary || setid || file_capabilities || script || not_elf || foreign_arch ||
           unreadable || without_library || other_uid;
}

bool more_trusted_or_equal(ExitSource a, ExitSource b) {
    // A parent's and the collector's reaping are equally good witnesses.
    auto trust = [](ExitSource s) {
        switch (s) {
            case ExitSource::kNone:
                return 0;
            case ExitSource::kSelf:
                return 1;
            case ExitSource::kParent:
            case ExitSource::kCollector:
                return 3;
            case ExitSource::kKernel:
                return 4;
        }
        return 0;
    };
    return trust(a) >= trust(b);
}

std::string census_mode_name(CensusMode mode) {
    switch (mode) {
        case CensusMode::kExact:
            return "exact";
        case CensusMode::kUnprivileged:
            return "unprivileged";
        case CensusMode::kOff:
            break;
    }
    return "off";
}

std::string exit_source_name(ExitSource source) {
    switch (source) {
        case ExitSource::kSelf:
            return "self";
        case ExitSource::kParent:
            return "parent";
        case ExitSource::kCollector:
            return "collector";
        case ExitSource::kKernel:
            return "kernel";
        case ExitSource::kNone:
            break;
    }
    return "unknown";
}

std::string image_text(const ExecImage& image) {
    std::string out;
    auto add = [&out](bool yes, const char* s) {
        if (!yes) return;
        if (!out.empty()) out += ",";
        out += s;
    };
    add(image.static_binary, "static");
    add(image.setid, "setuid/setgid");
    add(image.file_capabilities, "file-capabilities");
    add(image.script, "script");
    add(image.not_elf, "not-elf");
    add(image.foreign_arch, "foreign-arch");
    add(image.unreadable, "unreadable");
    add(image.without_library, "no room for LD_PRELOAD: not instrumented");
    add(image.other_uid, "runs as another uid: cannot reach the collector");
    return out;
}

std::vector<Limitation> limitations_of(const ProcessTree& tree, const Process& p) {
    std::vector<Limitation> out;
    auto add = [&out](Limitation l) {
        for (Limitation x : out) {
            if (x == l) return;
        }
        out.push_back(l);
    };
    bool is_root = p.pid == tree.root_pid && p.ppid == tree.collector_pid;
    // An attached tree is seen from outside as a whole (the report's header says so): only
    // what the library did see would be news there.
    if (!tree.attached) {
        if (!is_root && !p.creation_seen_by_shim) add(Limitation::kUntracedCreation);
        if (!p.shim_loaded) add(Limitation::kNotInstrumented);
    }
    for (const auto& e : tree.execs_of(p)) {
        if (!e.ok) continue;
        if (e.image.static_binary) add(Limitation::kExecStaticImage);
        if (e.image.setid || e.image.file_capabilities) add(Limitation::kExecSetidImage);
        if (e.image.without_library) add(Limitation::kExecWithoutLibrary);
        if (e.image.other_uid) add(Limitation::kExecAsOtherUid);
    }
    if (p.deepbind) add(Limitation::kDeepbindPlugin);
    if (p.still_running) add(Limitation::kStillRunning);
    if (p.seq_gaps() || p.dropped_records()) add(Limitation::kRecordsMissing);
    if (p.carried_over)
        add(tree.attached ? Limitation::kRunningAtAttach : Limitation::kCarriedOver);
    return out;
}

std::string limitation_id(Limitation l) {
    switch (l) {
        case Limitation::kUntracedCreation:
            return "untraced_creation";
        case Limitation::kNotInstrumented:
            return "not_instrumented";
        case Limitation::kExecStaticImage:
            return "exec_static_image";
        case Limitation::kExecSetidImage:
            return "exec_setid_image";
        case Limitation::kExecWithoutLibrary:
            return "exec_without_library";
        case Limitation::kExecAsOtherUid:
            return "exec_as_other_uid";
        case Limitation::kDeepbindPlugin:
            return "deepbind_plugin";
        case Limitation::kStillRunning:
            return "still_running";
        case Limitation::kRecordsMissing:
            return "records_missing";
        case Limitation::kCarriedOver:
            return "carried_over";
        case Limitation::kRunningAtAttach:
            return "running_at_attach";
    }
    return "unknown";
}

std::string limitation_words(Limitation l) {
    switch (l) {
        case Limitation::kUntracedCreation:
            return "created by an untraced mechanism";
        case Limitation::kNotInstrumented:
            return "not instrumented";
        case Limitation::kExecStaticImage:
            return "exec'd a static binary: not instrumented";
        case Limitation::kExecSetidImage:
            return "exec'd a set-id program: LD_PRELOAD dropped";
        case Limitation::kExecWithoutLibrary:
            return "exec'd without the library: no room for LD_PRELOAD";
        case Limitation::kExecAsOtherUid:
            return "exec'd as another uid: its records cannot reach the collector";
        case Limitation::kDeepbindPlugin:
            return "loaded a RTLD_DEEPBIND plugin: its calls are not seen";
        case Limitation::kStillRunning:
            return "still running";
        case Limitation::kRecordsMissing:
            return "records lost";
        case Limitation::kCarriedOver:
            return "began before this trace file (rotated)";
        case Limitation::kRunningAtAttach:
            return "running when attached";
    }
    return "unknown";
}

}  // namespace cowtrace::model

// What the file an exec or a posix_spawn is about to run means for tracing, found by the
// collector from the path the library names (the library only observes; this judgement used to
// run inside the traced program, in vfork children): a static binary or a set-id program will
// not load the library, a script is run by its interpreter, and a process whose user cannot
// reach the collector's socket cannot report.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cowtrace::collector {

// A process's credentials as the kernel will use them for its next exec (from
// /proc/<pid>/status): the file-system ids decide what it can open, the effective ones whether a
// set-id bit takes effect.
struct ProcessCredentials {
    uid_t euid = 0;
    gid_t egid = 0;
    uid_t fsuid = 0;
    gid_t fsgid = 0;
    std::vector<gid_t> groups;
    bool no_new_privs = false;
};

// False when the process is gone (or its status unreadable).
bool read_credentials(pid_t pid, ProcessCredentials& out);

class ImageInspector {
public:
    // socket_path: the collector's socket (empty: none); spool_path: the spool the library falls
    // back to (empty: none).
    ImageInspector(std::string socket_path, std::string spool_path);

    // wire::ImageFlag bits for the program at path (absolute), as the process pid is about to
    // run it (following #! interpreters). euid/egid: the ids it runs the exec with, when the
    // library told them (wire::kUnknownId otherwise): by the time the collector looks, a set-id
    // image has already changed the process's own.
    uint32_t inspect(pid_t pid, const std::string& path, uint32_t euid, uint32_t egid) const;

private:
    uint32_t inspect_file(const std::string& path, const ProcessCredentials* creds,
                          int depth) const;
    // Whether a process with creds can connect to the collector (or append to the spool).
    bool reachable_by(const ProcessCredentials& creds) const;

    std::string socket_path_;
    std::string spool_path_;
};

}  // namespace cowtrace::collector

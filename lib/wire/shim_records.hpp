// The records the library (libcowtrace.so) sends, one struct each. fields() lists a record's
// fields in wire order, once: the shim encodes with it (field_codec.hpp, no allocation), the
// tools decode with it. docs/FORMAT.md describes the same (a unit test holds the two together).
//
// Compatibility: fields are only ever appended. A field missing from an older record keeps the
// default written here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "field_codec.hpp"
#include "record.hpp"

namespace cowtrace::wire {

// Room for the shim's encode buffers (on the stack): small records, and those with paths and argv.
inline constexpr size_t kSmallShimRecord = 512;
inline constexpr size_t kLargeShimRecord = 12 * 1024;
static_assert(kLargeShimRecord <= kMaxShimRecordSize);
inline constexpr uint32_t kUnknownId = 0xffffffff;  // (uid_t)-1: no such user or group

// The library initialised in a new image (or in a process it was not told about).
struct Hello {
    static constexpr RecordType kType = RecordType::kHello;
    static constexpr size_t kMaxBytes = kLargeShimRecord;
    uint32_t flags = 0;  // HelloFlag
    int32_t ppid = 0;
    Text execfn;    // getauxval(AT_EXECFN): the file the kernel ran
    TextList argv;  // /proc/self/cmdline
    uint32_t uid = 0;
    uint32_t euid = 0;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.flags);
        v(s.ppid);
        v(s.execfn, kMaxPathInRecord);
        v(s.argv, kMaxArgvBytes);
        v(s.uid);
        v(s.euid);
    }
};

// Parent side of a creation: the child (or the failure), how, and from where.
struct Created {
    static constexpr RecordType kType = RecordType::kCreated;
    static constexpr size_t kMaxBytes = kLargeShimRecord;
    CreateHow how = CreateHow::kUnknown;
    int32_t child = -1;  // -1: the creation failed
    int32_t error = 0;   // errno (posix_spawn: its return value)
    uint64_t clone_flags = 0;
    U64List call_site;         // return addresses, innermost first
    Text spawn_path;           // posix_spawn[p]: the path as passed
    uint32_t image_flags = 0;  // ImageFlag bits the shim decided (kImageNoPreload)
    TextList spawn_argv;
    Text spawn_image;  // posix_spawn[p]: the file it runs, absolute (PATH searched); empty: unknown

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.how);
        v(s.child);
        v(s.error);
        v(s.clone_flags);
        v(s.call_site);
        v(s.spawn_path, kMaxPathInRecord);
        v(s.image_flags);
        v(s.spawn_argv, kMaxArgvBytes);
        v(s.spawn_image, kMaxPathInRecord);
    }
};

// Child side of a fork-like creation: its first record.
struct ChildStart {
    static constexpr RecordType kType = RecordType::kChildStart;
    static constexpr size_t kMaxBytes = kSmallShimRecord;
    CreateHow how = CreateHow::kUnknown;
    int32_t parent = 0;
    uint32_t token = 0;  // ties a vfork child to its SpawnBegin; 0: none
    // Where a forked child writes on its way out of fork(), before the collector reads its
    // memory: its stack and its TLS block (copies there are the child's).
    uint64_t stack_pointer = 0;
    uint64_t thread_pointer = 0;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.how);
        v(s.parent);
        v(s.token);
        v(s.stack_pointer);
        v(s.thread_pointer);
    }
};

struct ExecAttempt {
    static constexpr RecordType kType = RecordType::kExecAttempt;
    static constexpr size_t kMaxBytes = kLargeShimRecord;
    Text path;                 // as passed
    Text resolved_path;        // after a PATH search; empty when the same as path
    uint32_t image_flags = 0;  // ImageFlag bits the shim decided (kImageNoPreload)
    TextList argv;
    bool env_reinjected = false;  // our variables were put back into the environment
    Text image;  // the file the kernel is asked to run, absolute (from the working directory or
                 // the descriptor); empty: unknown
    // The ids the exec runs with (a set-id image changes them, so they are taken before).
    uint32_t euid = kUnknownId;
    uint32_t egid = kUnknownId;
    uint64_t minor_faults = 0;  // the image's own so far (getrusage): a forked child's cheap figure

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.path, kMaxPathInRecord);
        v(s.resolved_path, kMaxPathInRecord);
        v(s.image_flags);
        v(s.argv, kMaxArgvBytes);
        v(s.env_reinjected);
        v(s.image, kMaxPathInRecord);
        v(s.euid);
        v(s.egid);
        v(s.minor_faults);
    }
};

struct ExecFailed {
    static constexpr RecordType kType = RecordType::kExecFailed;
    static constexpr size_t kMaxBytes = kSmallShimRecord;
    int32_t error = 0;  // errno

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.error);
    }
};

struct Exit {
    static constexpr RecordType kType = RecordType::kExit;
    static constexpr size_t kMaxBytes = kSmallShimRecord;
    ExitHow how = ExitHow::kExit;
    int32_t code = 0;           // as passed to exit(); SIGABRT for abort()
    uint64_t minor_faults = 0;  // the process's own (getrusage), for a child never censused

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.how);
        v(s.code);
        v(s.minor_faults);
    }
};

struct WaitReaped {
    static constexpr RecordType kType = RecordType::kWaitReaped;
    static constexpr size_t kMaxBytes = kSmallShimRecord;
    WaitCall call = WaitCall::kWait;
    int32_t child = -1;  // -1: the call does not name it (system, pclose)
    int32_t status = 0;  // wait(2) form

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.call);
        v(s.child);
        v(s.status);
    }
};

// A creation whose child the caller cannot name (vfork, system, popen, wordexp, daemon, raw
// syscall): the child claims it with the token (vfork) or by kind.
struct SpawnBegin {
    static constexpr RecordType kType = RecordType::kSpawnBegin;
    static constexpr size_t kMaxBytes = kSmallShimRecord;
    CreateHow how = CreateHow::kUnknown;
    uint32_t token = 0;
    U64List call_site;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.how);
        v(s.token);
        v(s.call_site);
    }
};

// Records this process could neither send nor spool, told once the collector is reachable again.
struct Dropped {
    static constexpr RecordType kType = RecordType::kDropped;
    static constexpr size_t kMaxBytes = 64;
    uint64_t count = 0;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.count);
    }
};

// A forked child that lived long enough asks for its final census before it exits or execs, and
// waits for a CensusAck on its own connection. (kind 1, a baseline right after fork, was asked
// for by libraries before the collector read baselines from outside.)
struct CensusRequest {
    static constexpr RecordType kType = RecordType::kCensusRequest;
    static constexpr size_t kMaxBytes = 64;
    CensusKind kind = CensusKind::kBaseline;
    EpisodeEndReason reason = EpisodeEndReason::kExit;  // kFinal: why the memory goes away
    uint64_t stack_pointer = 0;   // where the child writes on its way out of fork()
    uint64_t thread_pointer = 0;  // its TLS block

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.kind);
        v(s.reason);
        v(s.stack_pointer);
        v(s.thread_pointer);
    }
};

// The collector's answer to a CensusRequest: a plain 8-byte message, not a record.
struct CensusAck {
    static constexpr uint32_t kMagic = 0x41574f43;       // "COWA"
    enum Status : uint32_t { kDone = 0, kSkipped = 1 };  // skipped: no episode, or census off
    uint32_t magic = kMagic;
    uint32_t status = kDone;
};
static_assert(sizeof(CensusAck) == 8);

struct DlopenDeepbind {
    static constexpr RecordType kType = RecordType::kDlopenDeepbind;
    static constexpr size_t kMaxBytes = kLargeShimRecord;
    Text path;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v(s.path, kMaxPathInRecord);
    }
};

}  // namespace cowtrace::wire

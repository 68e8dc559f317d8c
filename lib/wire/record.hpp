// The cowtrace record format, shared by the preload shim (writer) and the tools (reader).
// Documented for humans in docs/FORMAT.md; keep the two in step.
//
// A record is a 32-byte header followed by a payload of sequential fields (see wire_writer.hpp).
// Fields are only ever appended to a record type, so a reader takes the fields it knows and
// ignores the rest, and a missing trailing field takes its default. Unknown types are skipped
// whole. Everything is little-endian (x86_64 only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace cowtrace::wire {

// A trace file (and a spool file) starts with this header, then records back to back.
inline constexpr char kFileMagic[8] = {'C', 'O', 'W', 'T', 'R', 'A', 'C', 'E'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kFileHeaderSize = 16;  // magic[8], u32 version, u32 header size

// Writes the file header into out (no allocation: the shim uses it when it creates a spool).
inline void encode_file_header(uint8_t (&out)[kFileHeaderSize]) {
    memcpy(out, kFileMagic, 8);
    uint32_t version = kFormatVersion, size = kFileHeaderSize;
    memcpy(out + 8, &version, 4);
    memcpy(out + 12, &size, 4);
}

// Limits a reader enforces before trusting a length.
inline constexpr uint32_t kMaxShimRecordSize = 16 * 1024;     // one channel message
inline constexpr uint32_t kMaxRecordSize = 16 * 1024 * 1024;  // collector records (census tables)
inline constexpr size_t kMaxFrames = 32;                      // call-site backtrace depth
inline constexpr size_t kMaxArgvBytes = 4096;                 // argv text kept per exec
inline constexpr size_t kMaxPathInRecord = 4096;              // a path kept in a record

struct RecordHeader {
    uint32_t size;   // whole record, header included
    uint16_t type;   // RecordType
    uint16_t flags;  // RecordFlag bits
    int32_t pid;     // process the record is about (the sender, for shim records)
    int32_t tid;
    uint64_t t_ns;  // CLOCK_MONOTONIC
    uint32_t seq;   // per-process sequence number of shim records, for gap detection
    uint32_t reserved;
};
static_assert(sizeof(RecordHeader) == 32);

enum RecordFlag : uint16_t {
    kFromVforkChild = 1u << 0,  // sent by a vfork child on its parent's channel; seq not used
    kFromSpool = 1u << 1,       // written to a spool file, not through a collector
    kCredsMismatch = 1u << 2,   // collector: kernel credentials disagreed with the pid field
};

enum class RecordType : uint16_t {
    // Written by the collector.
    kTraceStart = 1,
    kTraceEnd = 2,
    kCollectorNote = 3,
    kKernelFork = 10,  // proc connector
    kKernelExec = 11,
    kKernelExit = 12,
    kSubreaperReaped = 14,
    kSymbol = 15,
    kImageFacts = 16,      // what the collector found in an exec or spawn target's file
    kProcessCarried = 17,  // a process alive when a rotated trace file began
    kEpisodeStart = 40,
    kEpisodeSample = 41,
    kEpisodeEnd = 42,
    kMemorySample = 43,
    kEpisodeRegions = 44,
    kCopyPath = 45,         // one call path's share of an episode's copies (sampled faults)
    kCopyAttribution = 46,  // how an episode's copies were attributed, or why not

    // Written by the shim.
    kHello = 20,       // the library initialised in a new image (or a new process)
    kCreated = 21,     // parent side: a process was created (or creation failed)
    kChildStart = 22,  // child side of a fork-like creation
    kExecAttempt = 23,
    kExecFailed = 24,
    kExit = 25,
    kWaitReaped = 26,
    kSpawnBegin = 27,  // a creation whose child pid the caller cannot learn (system, popen…)
    kDropped = 28,
    kCensusRequest = 29,   // child asks the collector for a baseline or final census, then waits
    kDlopenDeepbind = 30,  // a plugin was loaded RTLD_DEEPBIND: its calls bypass the shim
    // 31 was EnvScrubbed, never written: the number stays retired.
};

// The shim's record types are numbered 20-39: their senders' sequence numbers count them.
inline constexpr bool is_shim_record(uint16_t type) {
    return type >= 20 && type < 40;
}

// How a process came to be.
enum class CreateHow : uint8_t {
    kUnknown = 0,
    kFork = 1,
    kVfork = 2,
    kUnderscoreFork = 3,  // _Fork
    kClone = 4,
    kPosixSpawn = 5,
    kPosixSpawnp = 6,
    kSystem = 7,
    kPopen = 8,
    kWordexp = 9,
    kDaemon = 10,
    kForkpty = 11,
    kAtfork = 12,      // a libc-internal fork seen only through our pthread_atfork handler
    kRawSyscall = 13,  // syscall(SYS_fork/clone/…) through libc's syscall()
    kPidfdSpawn = 14,
};

// Whether a creation gives the child a copy of its creator's memory (a fork episode follows)
// rather than sharing it (vfork, CLONE_VM) or starting a new program (posix_spawn, system…).
constexpr bool copies_memory(CreateHow how) {
    switch (how) {
        case CreateHow::kFork:
        case CreateHow::kUnderscoreFork:
        case CreateHow::kClone:
        case CreateHow::kDaemon:
        case CreateHow::kForkpty:
        case CreateHow::kAtfork:
        case CreateHow::kRawSyscall:
        case CreateHow::kUnknown:
            return true;
        default:
            return false;
    }
}

// How a process ended, as the shim saw it.
enum class ExitHow : uint8_t {
    kExit = 1,  // exit(), or return from main (on_exit handler)
    kUnderscoreExit = 2,
    kUnderscoreCapitalExit = 3,
    kQuickExit = 4,
    kAbort = 5,
    kRawSyscall = 6,  // syscall(SYS_exit_group)
};

// Facts about an exec target. Bits 0-6 and 8 are the collector's (ImageFacts, from the file and
// the process's credentials); bit 7 is the shim's own decision (ExecAttempt, Created).
enum ImageFlag : uint32_t {
    kImageStatic = 1u << 0,    // no PT_INTERP: the preload cannot load
    kImageSetid = 1u << 1,     // setuid/setgid bit that will take effect
    kImageFileCaps = 1u << 2,  // security.capability xattr
    kImageScript = 1u << 3,    // starts with #!
    kImageNotElf = 1u << 4,
    kImageUnreadable = 1u << 5,   // could not be opened for inspection
    kImageForeignArch = 1u << 6,  // ELF for another machine or class
    kImageNoPreload = 1u << 7,    // run without the library: no room for our variables
    kImageOtherUid = 1u << 8,     // the process runs as a uid that cannot reach the collector
};

// How a fork episode ended (EpisodeEnd). kShortLived: the child exec'd before the collector
// could be sure of having read its fork-time memory, so nothing of it was measured.
enum class EpisodeEndReason : uint8_t { kExit = 1, kExec = 2, kRunning = 3, kShortLived = 4 };

// Which side of a fork episode made a copy.
enum class CopySide : uint8_t { kParent = 1, kChild = 2 };

// Which census a child asks for.
enum class CensusKind : uint8_t { kBaseline = 1, kFinal = 2 };

// Which wait-family call reaped a child.
enum class WaitCall : uint8_t {
    kWait = 1,
    kWaitpid = 2,
    kWait3 = 3,
    kWait4 = 4,
    kWaitid = 5,
    kPclose = 6,
    kSystem = 7
};

// Hello flags (bit 1 is retired: it said "no unwinder").
enum HelloFlag : uint32_t {
    kHelloAfterExec = 1u << 0,   // first record of a freshly exec'd image
    kHelloLateInit = 1u << 2,    // a wrapper ran before our constructor
    kHelloSecureExec = 1u << 3,  // AT_SECURE: configuration from the environment ignored
};

// CollectorNote severities and codes: what the collector tells the reader of a trace.
enum class NoteSeverity : uint8_t { kInfo = 0, kNotice = 1, kWarning = 2 };
enum class NoteCode : uint16_t {
    kSignalReceived = 1,      // the collector got SIGINT/SIGTERM/…
    kKernelEventsLost = 2,    // the proc connector dropped events (ENOBUFS)
    kSpoolFoldedIn = 3,       // records reached the collector late, through the spool file
    kSpoolReplaced = 5,       // the spool file was not ours any more: not used
    kTraceBytesLost = 6,      // the trace file could not take some records (disk full)
    kCommandNotStarted = 7,   // the traced command could not be executed
    kIntervalStretched = 10,  // sampling slowed down to stay within its CPU budget
    kAttached = 11,           // `cowtrace attach`: what the trace cannot know
    kEventsPolled = 12,       // attach without the proc connector: /proc looked at instead
    kAttributionOff = 13,     // page faults cannot be sampled here: copies are not attributed
};

}  // namespace cowtrace::wire

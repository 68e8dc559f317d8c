#include "records.hpp"

#include <fcntl.h>
#include <sys/auxv.h>
#include <time.h>

#include <cstring>

#include "channel.hpp"
#include "process_state.hpp"
#include "raw_syscall.hpp"
#include "wire/wire_writer.hpp"

namespace cowtrace::shim {

namespace {

constexpr size_t kSmallRecord = 512;
constexpr size_t kLargeRecord = 12 * 1024;  // exec attempts: path, resolved path, argv
constexpr size_t kMaxPathInRecord = 4096;

uint64_t monotonic_ns() {
    timespec ts{};
    raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, rs_arg(&ts));
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Fills the header and sends. A vfork child marks its records and leaves the sequence alone:
// the counter belongs to the parent whose memory it borrows.
void finish_and_send(wire::WireWriter& w, void* buf, wire::RecordType type) {
    bool vfork_child = in_vfork_child();
    uint32_t seq = 0;
    if (!vfork_child) seq = process_state().seq.fetch_add(1, std::memory_order_relaxed);
    size_t size = w.finish(type, vfork_child ? wire::kFromVforkChild : 0, raw_getpid(),
                           raw_gettid(), monotonic_ns(), seq);
    channel_send(buf, size);
}

void put_frames(wire::WireWriter& w, const CallSite& site) { w.u64list(site.frames, site.depth); }

}  // namespace

void send_hello(uint32_t hello_flags) {
    alignas(8) uint8_t buf[kLargeRecord];
    wire::WireWriter w(buf, sizeof buf);
    w.u32(hello_flags);
    w.i32(raw_getppid());
    w.cstr(reinterpret_cast<const char*>(getauxval(AT_EXECFN)), kMaxPathInRecord);
    char cmdline[wire::kMaxArgvBytes];
    long fd = raw_syscall(SYS_open, rs_arg("/proc/self/cmdline"), O_RDONLY | O_CLOEXEC, 0);
    long n = 0;
    if (fd >= 0) {
        n = raw_syscall(SYS_read, fd, rs_arg(cmdline), sizeof cmdline);
        raw_close(static_cast<int>(fd));
    }
    w.nul_separated(cmdline, n > 0 ? static_cast<size_t>(n) : 0, wire::kMaxArgvBytes);
    w.u32(static_cast<uint32_t>(raw_syscall(SYS_getuid)));
    w.u32(static_cast<uint32_t>(raw_syscall(SYS_geteuid)));
    finish_and_send(w, buf, wire::RecordType::kHello);
}

void send_created(wire::CreateHow how, pid_t child, int err, uint64_t clone_flags,
                  const CallSite& site, const char* path, uint32_t image_flags,
                  char* const* argv) {
    alignas(8) uint8_t buf[kLargeRecord];
    wire::WireWriter w(buf, sizeof buf);
    w.u8(static_cast<uint8_t>(how));
    w.i32(child);
    w.i32(err);
    w.u64(clone_flags);
    put_frames(w, site);
    w.cstr(path, kMaxPathInRecord);
    w.u32(image_flags);
    w.strlist(argv, wire::kMaxArgvBytes);
    finish_and_send(w, buf, wire::RecordType::kCreated);
}

void send_child_start(wire::CreateHow how, pid_t parent, uint32_t token) {
    alignas(8) uint8_t buf[kSmallRecord];
    wire::WireWriter w(buf, sizeof buf);
    w.u8(static_cast<uint8_t>(how));
    w.i32(parent);
    w.u32(token);
    finish_and_send(w, buf, wire::RecordType::kChildStart);
}

void send_spawn_begin(wire::CreateHow how, uint32_t token, const CallSite& site) {
    alignas(8) uint8_t buf[kSmallRecord];
    wire::WireWriter w(buf, sizeof buf);
    w.u8(static_cast<uint8_t>(how));
    w.u32(token);
    put_frames(w, site);
    finish_and_send(w, buf, wire::RecordType::kSpawnBegin);
}

void send_exec_attempt(const char* path, const char* resolved, uint32_t image_flags,
                       char* const* argv, bool env_reinjected) {
    alignas(8) uint8_t buf[kLargeRecord];
    wire::WireWriter w(buf, sizeof buf);
    w.cstr(path, kMaxPathInRecord);
    bool same = resolved == nullptr || (path != nullptr && strcmp(path, resolved) == 0);
    w.cstr(same ? "" : resolved, kMaxPathInRecord);
    w.u32(image_flags);
    w.strlist(argv, wire::kMaxArgvBytes);
    w.u8(env_reinjected ? 1 : 0);
    finish_and_send(w, buf, wire::RecordType::kExecAttempt);
}

void send_exec_failed(int err) {
    alignas(8) uint8_t buf[kSmallRecord];
    wire::WireWriter w(buf, sizeof buf);
    w.i32(err);
    finish_and_send(w, buf, wire::RecordType::kExecFailed);
}

void send_exit(wire::ExitHow how, int code) {
    alignas(8) uint8_t buf[kSmallRecord];
    wire::WireWriter w(buf, sizeof buf);
    w.u8(static_cast<uint8_t>(how));
    w.i32(code);
    finish_and_send(w, buf, wire::RecordType::kExit);
}

void send_wait_reaped(wire::WaitCall call, pid_t child, int status) {
    alignas(8) uint8_t buf[kSmallRecord];
    wire::WireWriter w(buf, sizeof buf);
    w.u8(static_cast<uint8_t>(call));
    w.i32(child);
    w.i32(status);
    finish_and_send(w, buf, wire::RecordType::kWaitReaped);
}

void send_deepbind(const char* path) {
    alignas(8) uint8_t buf[kLargeRecord];
    wire::WireWriter w(buf, sizeof buf);
    w.cstr(path, kMaxPathInRecord);
    finish_and_send(w, buf, wire::RecordType::kDlopenDeepbind);
}

}  // namespace cowtrace::shim

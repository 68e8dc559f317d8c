// Builds records and trace files in memory for tests, field by field in the order the shim
// (lib/shim/records.cpp) and the collector (tools/collector/session.cpp) write them, so a test
// reads like the sequence of events it stands for.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "core/trace_reader.hpp"
#include "wire/record.hpp"
#include "wire/wire_writer.hpp"

namespace cowtrace::testing {

using wire::RecordType;

// Wait statuses in wait(2) form, as the kernel and waitpid() report them.
inline int exited_status(int code) {
    return (code & 0xff) << 8;
}
inline int signaled_status(int sig, bool core = false) {
    return (sig & 0x7f) | (core ? 0x80 : 0);
}

class TraceBuilder {
  public:
    using Fill = std::function<void(wire::WireWriter&)>;
    using Strings = std::vector<std::string>;

    // Appends one record. Shim records get the next sequence number of their sender (see
    // next_seq_of); vfork children's and the collector's records carry 0, as on the wire.
    TraceBuilder& record(RecordType type, int32_t pid, uint64_t t_ns, const Fill& fill,
                         uint16_t flags = 0) {
        std::vector<uint8_t> buf(kScratchBytes);
        wire::WireWriter w(buf.data(), buf.size());
        fill(w);
        uint32_t seq = is_shim(type) && !(flags & wire::kFromVforkChild) ? next_seq(type, pid) : 0;
        size_t n = w.finish(type, flags, pid, pid, t_ns, seq);
        buf.resize(n);
        records_.push_back(std::move(buf));
        return *this;
    }

    // A record whose payload is exactly these bytes (malformed payloads, unknown types).
    TraceBuilder& raw(uint16_t type, int32_t pid, uint64_t t_ns, std::vector<uint8_t> payload,
                      uint16_t flags = 0, uint32_t seq = 0) {
        wire::RecordHeader h{};
        h.size = static_cast<uint32_t>(sizeof h + payload.size());
        h.type = type;
        h.flags = flags;
        h.pid = pid;
        h.tid = pid;
        h.t_ns = t_ns;
        h.seq = seq;
        std::vector<uint8_t> buf(sizeof h);
        memcpy(buf.data(), &h, sizeof h);
        buf.insert(buf.end(), payload.begin(), payload.end());
        records_.push_back(std::move(buf));
        return *this;
    }

    // The next shim record of pid carries this sequence number (to make a hole).
    TraceBuilder& next_seq_of(int32_t pid, uint32_t seq) {
        forced_seq_[pid] = seq;
        return *this;
    }

    // --- Collector records ---

    TraceBuilder& trace_start(int32_t collector_pid, int32_t root_pid, uint64_t t0_ns,
                              uint64_t root_fork_ns, const Strings& command = {"prog"}) {
        return record(RecordType::kTraceStart, collector_pid, t0_ns, [&](wire::WireWriter& w) {
            w.u64(1'700'000'000'000'000'000ull);
            w.i32(collector_pid);
            w.i32(root_pid);
            put(w, command);
            w.u32(4096);
            w.cstr("6.18.0");
            w.cstr("testhost");
            w.u32(0);
            w.u8(1);
            w.cstr("");
            w.cstr("exact");
            w.u64(100'000'000);
            w.u64(root_fork_ns);
        });
    }

    TraceBuilder& trace_end(int32_t collector_pid, uint64_t t_ns, int root_status,
                            std::initializer_list<int32_t> still_running = {}) {
        return record(RecordType::kTraceEnd, collector_pid, t_ns, [&](wire::WireWriter& w) {
            w.i32(root_status);
            w.u64(0);
            w.u64(0);
            w.u64(0);
            w.u16(static_cast<uint16_t>(still_running.size()));
            for (int32_t pid : still_running) w.i32(pid);
        });
    }

    TraceBuilder& kernel_fork(int32_t child, uint64_t t_ns, int32_t parent) {
        return record(RecordType::kKernelFork, child, t_ns, [&](wire::WireWriter& w) {
            w.i32(parent);
            w.i32(parent);
        });
    }

    TraceBuilder& kernel_exec(int32_t pid, uint64_t t_ns) {
        return record(RecordType::kKernelExec, pid, t_ns, [&](wire::WireWriter& w) { w.i32(pid); });
    }

    TraceBuilder& kernel_exit(int32_t pid, uint64_t t_ns, int wait_status) {
        return record(RecordType::kKernelExit, pid, t_ns,
                      [&](wire::WireWriter& w) { w.i32(wait_status); });
    }

    TraceBuilder& subreaper_reaped(int32_t pid, uint64_t t_ns, int wait_status) {
        return record(RecordType::kSubreaperReaped, pid, t_ns,
                      [&](wire::WireWriter& w) { w.i32(wait_status); });
    }

    // fork_ns: when the fork happened (0: at t_ns); the collector writes the record later.
    TraceBuilder& episode_start(int32_t child, uint64_t t_ns, int32_t parent, uint64_t shared_bytes,
                                const Strings& approximations = {}, uint64_t fork_ns = 0) {
        return record(RecordType::kEpisodeStart, child, t_ns, [&](wire::WireWriter& w) {
            w.i32(parent);
            w.u64(fork_ns ? fork_ns : t_ns);
            w.cstr("exact");
            w.u8(1);
            w.u64(shared_bytes);
            w.u64(4096);
            w.u64(0);
            w.u64(0);
            put(w, approximations);
        });
    }

    TraceBuilder& episode_sample(int32_t child, uint64_t t_ns, uint64_t shared_bytes,
                                 uint64_t copied_bytes, uint64_t by_parent, uint64_t by_child) {
        return record(RecordType::kEpisodeSample, child, t_ns, [&](wire::WireWriter& w) {
            w.u64(shared_bytes);
            w.u64(copied_bytes);
            w.u64(by_parent);
            w.u64(by_child);
            w.u64(0);
            w.u64(0);
            w.u64(1000);
        });
    }

    struct Region {
        std::string name;
        uint64_t shared = 0, copied = 0, by_parent = 0, by_child = 0;
    };
    TraceBuilder& episode_regions(int32_t child, uint64_t t_ns,
                                  const std::vector<Region>& regions) {
        return record(RecordType::kEpisodeRegions, child, t_ns, [&](wire::WireWriter& w) {
            w.u32(static_cast<uint32_t>(regions.size()));
            for (const auto& r : regions) {
                w.cstr(r.name.c_str());
                w.u64(r.shared);
                w.u64(r.copied);
                w.u64(r.by_parent);
                w.u64(r.by_child);
            }
        });
    }

    TraceBuilder& episode_end(int32_t child, uint64_t t_ns, wire::EpisodeEnd end) {
        return record(RecordType::kEpisodeEnd, child, t_ns,
                      [&](wire::WireWriter& w) { w.u8(static_cast<uint8_t>(end)); });
    }

    TraceBuilder& memory_sample(int32_t pid, uint64_t t_ns, uint64_t rss_bytes,
                                uint64_t pss_bytes) {
        return record(RecordType::kMemorySample, pid, t_ns, [&](wire::WireWriter& w) {
            w.u64(rss_bytes);
            w.u64(pss_bytes);
            w.u64(0);
            w.u64(0);
            w.u64(0);
            w.u64(0);
        });
    }

    // --- Shim records (pid is the sender) ---

    TraceBuilder& hello(int32_t pid, uint64_t t_ns, int32_t ppid, const std::string& execfn,
                        const Strings& argv) {
        return record(RecordType::kHello, pid, t_ns, [&](wire::WireWriter& w) {
            w.u32(wire::kHelloAfterExec);
            w.i32(ppid);
            w.cstr(execfn.c_str());
            put(w, argv);
            w.u32(1000);
            w.u32(1000);
        });
    }

    TraceBuilder& created(int32_t parent, uint64_t t_ns, wire::CreateHow how, int32_t child,
                          std::vector<uint64_t> frames = {}, const std::string& spawn_path = "",
                          const Strings& spawn_argv = {}, int err = 0) {
        return record(RecordType::kCreated, parent, t_ns, [&](wire::WireWriter& w) {
            w.u8(static_cast<uint8_t>(how));
            w.i32(child);
            w.i32(err);
            w.u64(0);
            w.u64list(frames.data(), frames.size());
            w.cstr(spawn_path.c_str());
            w.u32(0);
            put(w, spawn_argv);
        });
    }

    TraceBuilder& child_start(int32_t child, uint64_t t_ns, wire::CreateHow how, int32_t parent,
                              uint32_t token = 0, uint16_t flags = 0) {
        return record(
            RecordType::kChildStart, child, t_ns,
            [&](wire::WireWriter& w) {
                w.u8(static_cast<uint8_t>(how));
                w.i32(parent);
                w.u32(token);
            },
            flags);
    }

    TraceBuilder& spawn_begin(int32_t parent, uint64_t t_ns, wire::CreateHow how, uint32_t token,
                              std::vector<uint64_t> frames = {}) {
        return record(RecordType::kSpawnBegin, parent, t_ns, [&](wire::WireWriter& w) {
            w.u8(static_cast<uint8_t>(how));
            w.u32(token);
            w.u64list(frames.data(), frames.size());
        });
    }

    TraceBuilder& exec_attempt(int32_t pid, uint64_t t_ns, const std::string& path,
                               const Strings& argv, const std::string& resolved = "",
                               uint32_t image_flags = 0, uint16_t flags = 0) {
        return record(
            RecordType::kExecAttempt, pid, t_ns,
            [&](wire::WireWriter& w) {
                w.cstr(path.c_str());
                w.cstr(resolved.c_str());
                w.u32(image_flags);
                put(w, argv);
                w.u8(0);
            },
            flags);
    }

    TraceBuilder& exec_failed(int32_t pid, uint64_t t_ns, int err, uint16_t flags = 0) {
        return record(
            RecordType::kExecFailed, pid, t_ns, [&](wire::WireWriter& w) { w.i32(err); }, flags);
    }

    TraceBuilder& exit(int32_t pid, uint64_t t_ns, wire::ExitHow how, int code,
                       uint16_t flags = 0) {
        return record(
            RecordType::kExit, pid, t_ns,
            [&](wire::WireWriter& w) {
                w.u8(static_cast<uint8_t>(how));
                w.i32(code);
            },
            flags);
    }

    TraceBuilder& wait_reaped(int32_t parent, uint64_t t_ns, wire::WaitCall call, int32_t child,
                              int wait_status) {
        return record(RecordType::kWaitReaped, parent, t_ns, [&](wire::WireWriter& w) {
            w.u8(static_cast<uint8_t>(call));
            w.i32(child);
            w.i32(wait_status);
        });
    }

    TraceBuilder& dropped(int32_t pid, uint64_t t_ns, uint64_t count) {
        return record(RecordType::kDropped, pid, t_ns, [&](wire::WireWriter& w) { w.u64(count); });
    }

    // --- Output ---

    // Views into this builder's storage, in the order they were added; offsets as in file().
    std::vector<RawRecord> records() const {
        std::vector<RawRecord> out;
        uint64_t offset = wire::kFileHeaderSize;
        for (const auto& buf : records_) {
            RawRecord r;
            memcpy(&r.header, buf.data(), sizeof r.header);
            r.payload = std::span<const uint8_t>(buf.data() + sizeof r.header,
                                                 buf.size() - sizeof r.header);
            r.offset = offset;
            offset += buf.size();
            out.push_back(r);
        }
        return out;
    }

    // A whole trace file: the 16-byte header, then the records back to back.
    std::vector<uint8_t> file() const {
        std::vector<uint8_t> out = file_header();
        for (const auto& buf : records_) out.insert(out.end(), buf.begin(), buf.end());
        return out;
    }

    static std::vector<uint8_t> file_header(uint32_t version = wire::kFormatVersion,
                                            uint32_t header_size = wire::kFileHeaderSize) {
        std::vector<uint8_t> out(wire::kFileHeaderSize);
        memcpy(out.data(), wire::kFileMagic, 8);
        memcpy(out.data() + 8, &version, 4);
        memcpy(out.data() + 12, &header_size, 4);
        return out;
    }

  private:
    // Larger than any record a test writes; the shim's largest buffer is 12 KiB.
    static constexpr size_t kScratchBytes = 64 * 1024;

    static bool is_shim(RecordType type) {
        auto t = static_cast<uint16_t>(type);
        return t >= static_cast<uint16_t>(RecordType::kHello) &&
               t <= static_cast<uint16_t>(RecordType::kEnvScrubbed);
    }

    // Numbering restarts with each process (ChildStart) and each image (Hello), as in the shim.
    uint32_t next_seq(RecordType type, int32_t pid) {
        bool restarts = type == RecordType::kHello || type == RecordType::kChildStart;
        uint32_t seq = restarts ? 0 : seq_[pid];
        if (auto it = forced_seq_.find(pid); it != forced_seq_.end()) {
            seq = it->second;
            forced_seq_.erase(it);
        }
        seq_[pid] = seq + 1;
        return seq;
    }

    static void put(wire::WireWriter& w, const Strings& v) {
        std::vector<const char*> ptrs;
        for (const auto& s : v) ptrs.push_back(s.c_str());
        ptrs.push_back(nullptr);
        w.strlist(ptrs.data(), 64 * 1024);
    }

    std::deque<std::vector<uint8_t>> records_;
    std::map<int32_t, uint32_t> seq_;         // next sequence number per sender
    std::map<int32_t, uint32_t> forced_seq_;  // set by next_seq_of()
};

}  // namespace cowtrace::testing

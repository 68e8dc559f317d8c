// Builds records and trace files in memory for tests, with the record structs of lib/wire (the
// one definition of each layout the shim and the collector use), so a test reads like the
// sequence of events it stands for.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "trace/trace_reader.hpp"
#include "wire/collector_records.hpp"
#include "wire/record.hpp"
#include "wire/shim_records.hpp"
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

    // A record of the schema (wire/shim_records.hpp, wire/collector_records.hpp), encoded as
    // the shim or the collector encodes it. pid is the sender (library records) or the process
    // the record is about.
    template <class R>
    TraceBuilder& add(const R& r, int32_t pid, uint64_t t_ns, uint16_t flags = 0) {
        return record(
            R::kType, pid, t_ns,
            [&](wire::WireWriter& w) {
                wire::FieldEncoder encoder(w);
                R::fields(r, encoder);
            },
            flags);
    }

    // --- Collector records ---

    TraceBuilder& trace_start(int32_t collector_pid, int32_t root_pid, uint64_t t0_ns,
                              uint64_t root_fork_ns, const Strings& command = {"prog"}) {
        Texts words(command);
        wire::TraceStart r;
        r.wall_t0_ns = 1'700'000'000'000'000'000ull;
        r.collector_pid = collector_pid;
        r.root_pid = root_pid;
        r.command = words.list();
        r.kernel_release = "6.18.0";
        r.host = "testhost";
        r.kernel_events = true;
        r.census_mode = "exact";
        r.interval_ns = 100'000'000;
        r.root_fork_ns = root_fork_ns;
        return add(r, collector_pid, t0_ns);
    }

    TraceBuilder& trace_end(int32_t collector_pid, uint64_t t_ns, int root_status,
                            std::initializer_list<int32_t> still_running = {}) {
        std::vector<int32_t> pids(still_running);
        wire::TraceEnd r;
        r.root_status = root_status;
        r.still_running = wire::I32List(pids.data(), pids.size());
        return add(r, collector_pid, t_ns);
    }

    TraceBuilder& kernel_fork(int32_t child, uint64_t t_ns, int32_t parent) {
        return add(wire::KernelFork{parent, parent}, child, t_ns);
    }

    TraceBuilder& kernel_exec(int32_t pid, uint64_t t_ns) {
        return add(wire::KernelExec{pid}, pid, t_ns);
    }

    TraceBuilder& kernel_exit(int32_t pid, uint64_t t_ns, int wait_status) {
        return add(wire::KernelExit{wait_status}, pid, t_ns);
    }

    TraceBuilder& subreaper_reaped(int32_t pid, uint64_t t_ns, int wait_status) {
        return add(wire::SubreaperReaped{wait_status}, pid, t_ns);
    }

    // fork_ns: when the fork happened (0: at t_ns); the collector writes the record later.
    TraceBuilder& episode_start(int32_t child, uint64_t t_ns, int32_t parent, uint64_t shared_bytes,
                                const Strings& approximations = {}, uint64_t fork_ns = 0) {
        Texts words(approximations);
        wire::EpisodeStart r;
        r.parent = parent;
        r.fork_t_ns = fork_ns ? fork_ns : t_ns;
        r.mode = "exact";
        r.split_known = true;
        r.shared_bytes = shared_bytes;
        r.zero_page_bytes = 4096;
        r.approximations = words.list();
        return add(r, child, t_ns);
    }

    TraceBuilder& episode_sample(int32_t child, uint64_t t_ns, uint64_t shared_bytes,
                                 uint64_t copied_bytes, uint64_t by_parent, uint64_t by_child) {
        wire::EpisodeSample r;
        r.shared_bytes = shared_bytes;
        r.copied_bytes = copied_bytes;
        r.copied_by_parent_bytes = by_parent;
        r.copied_by_child_bytes = by_child;
        r.census_cost_ns = 1000;
        return add(r, child, t_ns);
    }

    struct Region {
        std::string name;
        uint64_t shared = 0, copied = 0, by_parent = 0, by_child = 0;
    };
    TraceBuilder& episode_regions(int32_t child, uint64_t t_ns,
                                  const std::vector<Region>& regions) {
        std::vector<wire::RegionFigures> figures;
        for (const auto& x : regions) {
            figures.push_back({x.name, x.shared, x.copied, x.by_parent, x.by_child});
        }
        wire::EpisodeRegions r;
        r.regions = {figures.data(), figures.size()};
        return add(r, child, t_ns);
    }

    TraceBuilder& episode_end(int32_t child, uint64_t t_ns, wire::EpisodeEndReason end) {
        return add(wire::EpisodeEnd{end}, child, t_ns);
    }

    TraceBuilder& memory_sample(int32_t pid, uint64_t t_ns, uint64_t rss_bytes,
                                uint64_t pss_bytes) {
        wire::MemorySample r;
        r.rss_bytes = rss_bytes;
        r.pss_bytes = pss_bytes;
        return add(r, pid, t_ns);
    }

    TraceBuilder& image_facts(int32_t pid, uint64_t request_t_ns, uint32_t image_flags,
                              const std::string& path = "") {
        wire::ImageFacts r;
        r.request_t_ns = request_t_ns;
        r.image_flags = image_flags;
        r.path = path;
        return add(r, pid, request_t_ns);
    }

    // --- Shim records (pid is the sender) ---

    TraceBuilder& hello(int32_t pid, uint64_t t_ns, int32_t ppid, const std::string& execfn,
                        const Strings& argv) {
        Texts words(argv);
        wire::Hello r;
        r.flags = wire::kHelloAfterExec;
        r.ppid = ppid;
        r.execfn = execfn;
        r.argv = words.list();
        r.uid = r.euid = 1000;
        return add(r, pid, t_ns);
    }

    TraceBuilder& created(int32_t parent, uint64_t t_ns, wire::CreateHow how, int32_t child,
                          std::vector<uint64_t> frames = {}, const std::string& spawn_path = "",
                          const Strings& spawn_argv = {}, int err = 0) {
        Texts words(spawn_argv);
        wire::Created r;
        r.how = how;
        r.child = child;
        r.error = err;
        r.call_site = {frames.data(), frames.size()};
        r.spawn_path = spawn_path;
        r.spawn_argv = words.list();
        return add(r, parent, t_ns);
    }

    TraceBuilder& child_start(int32_t child, uint64_t t_ns, wire::CreateHow how, int32_t parent,
                              uint32_t token = 0, uint16_t flags = 0) {
        return add(wire::ChildStart{how, parent, token}, child, t_ns, flags);
    }

    TraceBuilder& spawn_begin(int32_t parent, uint64_t t_ns, wire::CreateHow how, uint32_t token,
                              std::vector<uint64_t> frames = {}) {
        wire::SpawnBegin r;
        r.how = how;
        r.token = token;
        r.call_site = {frames.data(), frames.size()};
        return add(r, parent, t_ns);
    }

    TraceBuilder& exec_attempt(int32_t pid, uint64_t t_ns, const std::string& path,
                               const Strings& argv, const std::string& resolved = "",
                               uint32_t image_flags = 0, uint16_t flags = 0) {
        Texts words(argv);
        wire::ExecAttempt r;
        r.path = path;
        r.resolved_path = resolved;
        r.image_flags = image_flags;
        r.argv = words.list();
        return add(r, pid, t_ns, flags);
    }

    TraceBuilder& exec_failed(int32_t pid, uint64_t t_ns, int err, uint16_t flags = 0) {
        return add(wire::ExecFailed{err}, pid, t_ns, flags);
    }

    TraceBuilder& exit(int32_t pid, uint64_t t_ns, wire::ExitHow how, int code,
                       uint16_t flags = 0) {
        return add(wire::Exit{how, code}, pid, t_ns, flags);
    }

    TraceBuilder& wait_reaped(int32_t parent, uint64_t t_ns, wire::WaitCall call, int32_t child,
                              int wait_status) {
        return add(wire::WaitReaped{call, child, wait_status}, parent, t_ns);
    }

    TraceBuilder& dropped(int32_t pid, uint64_t t_ns, uint64_t count) {
        return add(wire::Dropped{count}, pid, t_ns);
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
        return wire::is_shim_record(static_cast<uint16_t>(type));
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

    // Strings as a record's text list (they must outlive the record's encoding).
    class Texts {
    public:
        explicit Texts(const Strings& words) {
            for (const auto& w : words) ptrs_.push_back(w.c_str());
            ptrs_.push_back(nullptr);
        }
        wire::TextList list() const { return wire::TextList::of_array(ptrs_.data()); }

    private:
        std::vector<const char*> ptrs_;
    };

    std::deque<std::vector<uint8_t>> records_;
    std::map<int32_t, uint32_t> seq_;         // next sequence number per sender
    std::map<int32_t, uint32_t> forced_seq_;  // set by next_seq_of()
};

}  // namespace cowtrace::testing

// Writes the hand-made part of the fuzz seed corpus: small traces for edge cases the model and
// the reader must survive, plain and compressed (version 2, as the collector writes them), a
// plain copy of each real (compressed) trace given, so that mutations reach the model, and
// record_decoder inputs cut from all of them. Run by make-seed-corpus.sh; the output is
// checked in under tests/fuzz/corpus/.
//
// Usage: fuzz_seed_corpus CORPUS_DIR [REAL_TRACE...]
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "compressed_trace.hpp"
#include "decoder_types.hpp"
#include "trace/trace_file_versions.hpp"
#include "trace/trace_reader.hpp"
#include "trace_builder.hpp"

namespace {

using cowtrace::testing::exited_status;
using cowtrace::testing::signaled_status;
using cowtrace::testing::TraceBuilder;
using cowtrace::wire::CreateHow;
using cowtrace::wire::EpisodeEndReason;
using cowtrace::wire::ExitHow;
using cowtrace::wire::RecordType;
using cowtrace::wire::WaitCall;
using Bytes = std::vector<uint8_t>;

constexpr int kCollector = 100;
constexpr int kRoot = 101;

TraceBuilder started() {
    TraceBuilder b;
    b.trace_start(kCollector, kRoot, 1000, 1010, {"sh", "-c", "edge case"})
        .hello(kRoot, 1100, kCollector, "/bin/sh", {"sh", "-c", "edge case"});
    return b;
}

// Every record type, each field of it present.
Bytes every_type() {
    TraceBuilder b = started();
    b.created(kRoot, 2000, CreateHow::kFork, 200, {0x401000, 0x402000})
        .child_start(200, 2001, CreateHow::kFork, kRoot)
        .episode_start(200, 2002, kRoot, 1 << 20, {"THP"}, 2000)
        .episode_sample(200, 2100, 900000, 148576, 100000, 48576)
        .episode_regions(200, 2101, {{"[heap]", 1 << 20, 148576, 100000, 48576}})
        .memory_sample(200, 2102, 4 << 20, 2 << 20)
        .exec_attempt(200, 2200, "ls", {"ls", "-l"}, "/usr/bin/ls")
        .kernel_exec(200, 2201)
        .episode_end(200, 2202, EpisodeEndReason::kExec)
        .hello(200, 2300, kRoot, "/usr/bin/ls", {"ls", "-l"})
        .add(cowtrace::wire::Symbol{kRoot, 0x401000, "main+0x10 (/bin/sh)"}, kCollector, 2301)
        .add(cowtrace::wire::CollectorNote{cowtrace::wire::NoteSeverity::kWarning,
                                           cowtrace::wire::NoteCode::kKernelEventsLost,
                                           "the kernel dropped process events"},
             kCollector, 2302)
        .add(cowtrace::wire::DlopenDeepbind{"/usr/lib/plugin.so"}, 200, 2303)
        .add(cowtrace::wire::CensusRequest{cowtrace::wire::CensusKind::kFinal}, 200, 2304)
        .image_facts(200, 2200, cowtrace::wire::kImageScript, "/usr/bin/ls")
        .dropped(200, 2305, 3)
        .exit(200, 2400, ExitHow::kExit, 0)
        .kernel_exit(200, 2401, exited_status(0))
        .wait_reaped(kRoot, 2402, WaitCall::kWaitpid, 200, exited_status(0))
        .spawn_begin(kRoot, 2500, CreateHow::kSystem, 1, {0x403000})
        .hello(201, 2550, kRoot, "/bin/sh", {"sh", "-c", "true"})
        .subreaper_reaped(201, 2600, exited_status(0))
        .wait_reaped(kRoot, 2601, WaitCall::kSystem, -1, exited_status(0))
        .exec_failed(kRoot, 2700, ENOENT)
        .kernel_fork(202, 2800, kRoot)
        .trace_end(kCollector, 3000, exited_status(0), {202});
    return b.file();
}

Bytes pid_reuse_and_disorder() {
    TraceBuilder b = started();
    b.created(kRoot, 2000, CreateHow::kFork, 200)
        .child_start(200, 1999, CreateHow::kFork, kRoot)
        .exit(200, 2001, ExitHow::kUnderscoreExit, 1)
        .wait_reaped(kRoot, 2100, WaitCall::kWaitpid, 200, exited_status(1))
        .child_start(200, 3000, CreateHow::kFork, kRoot)
        .hello(200, 3001, kRoot, "/bin/echo", {"echo"})
        .created(kRoot, 3010, CreateHow::kFork, 200)
        .kernel_exit(200, 3100, signaled_status(9, true));
    return b.file();
}

Bytes vfork_and_popen() {
    TraceBuilder b = started();
    b.spawn_begin(kRoot, 2000, CreateHow::kVfork, 7, {0x1})
        .child_start(200, 2001, CreateHow::kVfork, kRoot, 7, cowtrace::wire::kFromVforkChild)
        .exec_attempt(200, 2002, "/missing", {"missing"}, "", 0, cowtrace::wire::kFromVforkChild)
        .exec_failed(200, 2003, ENOENT, cowtrace::wire::kFromVforkChild)
        .exit(200, 2004, ExitHow::kUnderscoreExit, 127, cowtrace::wire::kFromVforkChild)
        .spawn_begin(kRoot, 3000, CreateHow::kPopen, 8, {0x2})
        .hello(201, 3050, kRoot, "/bin/sh", {"sh", "-c", "date"})
        .wait_reaped(kRoot, 3100, WaitCall::kPclose, -1, exited_status(0))
        .created(kRoot, 4000, CreateHow::kPosixSpawnp, 202, {}, "/bin/busybox", {"busybox", "true"})
        .next_seq_of(kRoot, 40)
        .exit(kRoot, 5000, ExitHow::kAbort, 0);
    return b.file();
}

// A chain of forks, identical siblings for the text report to fold, odd bytes in names.
Bytes deep_and_wide() {
    TraceBuilder b = started();
    int parent = kRoot;
    for (int i = 0; i < 40; ++i) {
        int child = 300 + i;
        b.created(parent, 2000 + 10 * i, CreateHow::kFork, child);
        parent = child;
    }
    for (int i = 0; i < 6; ++i) {
        b.created(kRoot, 3000 + i, CreateHow::kFork, 400 + i)
            .exit(400 + i, 3100 + i, ExitHow::kExit, 0);
    }
    b.hello(500, 4000, kRoot, "/tmp/\xff\xfe bad utf-8", {"a\tb", "\x01\x7f", "'quote\"", ""});
    b.hello(501, 4001, 501, "/self/parent", {});
    b.hello(502, 4002, 503, "/cycle/a", {}).hello(503, 4002, 502, "/cycle/b", {});
    return b.file();
}

// Damaged files: the reader must stop at the damage and say where.
std::map<std::string, Bytes> damaged(const Bytes& good) {
    std::map<std::string, Bytes> out;
    Bytes garbage_tail = good;
    for (int i = 0; i < 64; ++i) garbage_tail.push_back(static_cast<uint8_t>(i * 37));
    out["damaged-garbage-tail"] = garbage_tail;
    Bytes cut = good;
    cut.erase(cut.end() - 5, cut.end());
    out["damaged-cut-record"] = cut;
    Bytes huge = good;
    uint32_t size = 0xfffffff0;
    memcpy(huge.data() + cowtrace::wire::kFileHeaderSize, &size, 4);
    out["damaged-huge-length"] = huge;
    out["damaged-header-only"] = TraceBuilder::file_header();
    out["damaged-short-header"] = Bytes(good.begin(), good.begin() + 11);
    out["damaged-version-3"] = TraceBuilder::file_header(cowtrace::kNewestTraceVersion + 1);
    out["damaged-header-size-24"] = [] {
        Bytes b = TraceBuilder::file_header(1, 24);
        b.resize(24, 0);
        return b;
    }();
    return out;
}

// Compressed files: as a collector closes one, as one killed after a flush leaves it, and cut
// or damaged in the zstd stream itself.
std::map<std::string, Bytes> compressed(const Bytes& good) {
    using cowtrace::testing::compress_trace;
    std::map<std::string, Bytes> out;
    cowtrace::TraceReader reader;
    std::vector<size_t> offsets;
    cowtrace::RawRecord rec;
    if (reader.open_buffer(good.data(), good.size())) {
        while (reader.next(rec)) offsets.push_back(rec.offset);
    }
    // A flush after the first record, as the collector flushes its TraceStart.
    std::vector<size_t> flush_at;
    if (offsets.size() > 1) flush_at.push_back(offsets[1]);
    out["v2-closed"] = compress_trace(good, flush_at).bytes;
    cowtrace::testing::CompressedTrace open = compress_trace(good, flush_at, false);
    out["v2-after-flush"] = open.bytes;
    Bytes cut = open.bytes;
    cut.pop_back();
    out["v2-cut-mid-block"] = cut;
    Bytes tail = out["v2-closed"];
    for (int i = 0; i < 16; ++i) tail.push_back(static_cast<uint8_t>(i * 53));
    out["v2-garbage-after-frame"] = tail;
    out["v2-header-only"] = TraceBuilder::file_header(cowtrace::kCompressedTraceVersion);
    return out;
}

// The records of a compressed trace as a plain file.
Bytes plain_copy(const Bytes& trace) {
    cowtrace::TraceReader reader;
    if (!reader.open_buffer(trace.data(), trace.size())) return {};
    Bytes out = TraceBuilder::file_header();
    cowtrace::RawRecord rec;
    while (reader.next(rec)) {
        auto* start = rec.payload.data() - sizeof rec.header;
        out.insert(out.end(), start, start + rec.header.size);
    }
    return out;
}

bool write_file(const std::string& path, const Bytes& bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
    if (!f) fprintf(stderr, "fuzz_seed_corpus: cannot write %s\n", path.c_str());
    return static_cast<bool>(f);
}

Bytes read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// record_decoder inputs: byte 0 selects the type, byte 1 the flags, then the payload. Up to
// three different payloads per type.
void add_decoder_seeds(const Bytes& trace, std::map<uint16_t, std::set<Bytes>>& seeds) {
    cowtrace::TraceReader reader;
    if (!reader.open_buffer(trace.data(), trace.size())) return;
    cowtrace::RawRecord rec;
    while (reader.next(rec)) {
        const std::vector<uint16_t>& types = cowtrace::fuzz::decoder_types();
        for (size_t i = 0; i < types.size(); ++i) {
            if (types[i] != rec.header.type) continue;
            auto& set = seeds[rec.header.type];
            if (set.size() >= 3) break;
            Bytes input = {static_cast<uint8_t>(i), static_cast<uint8_t>(rec.header.flags)};
            input.insert(input.end(), rec.payload.begin(), rec.payload.end());
            // The set's ordering compares vectors with memcmp; g++ 12 at -O2 and above warns
            // of a bound it cannot rule out there (-Wstringop-overread, GCC bug 105545), which
            // fails a Release build with warnings as errors.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
            set.insert(std::move(input));
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_seed_corpus CORPUS_DIR [REAL_TRACE...]\n");
        return 2;
    }
    std::string dir = argv[1];
    std::map<std::string, Bytes> traces = {
        {"edge-every-type", every_type()},
        {"edge-pid-reuse-disorder", pid_reuse_and_disorder()},
        {"edge-vfork-popen-spawn", vfork_and_popen()},
        {"edge-deep-wide-odd-names", deep_and_wide()},
    };
    for (auto& [name, bytes] : damaged(traces["edge-every-type"])) traces[name] = bytes;
    for (auto& [name, bytes] : compressed(traces["edge-every-type"])) traces[name] = bytes;
    bool ok = true;
    std::map<uint16_t, std::set<Bytes>> decoder_seeds;
    for (const auto& [name, bytes] : traces) {
        ok = write_file(dir + "/trace_report/" + name, bytes) && ok;
        add_decoder_seeds(bytes, decoder_seeds);
    }
    for (int i = 2; i < argc; ++i) {
        Bytes trace = read_file(argv[i]);
        add_decoder_seeds(trace, decoder_seeds);
        if (trace.size() >= 12 && trace[8] == cowtrace::kCompressedTraceVersion) {
            std::string name = argv[i];
            name = name.substr(name.rfind('/') + 1);
            ok = write_file(dir + "/trace_report/" + name + "-plain", plain_copy(trace)) && ok;
        }
    }
    for (const auto& [type, set] : decoder_seeds) {
        int n = 0;
        for (const auto& input : set) {
            ok = write_file(dir + "/record_decoder/type-" + std::to_string(type) + "-" +
                                std::to_string(n++),
                            input) &&
                 ok;
        }
    }
    // A few wire_roundtrip inputs: libFuzzer's own data provider format, any bytes will do.
    ok = write_file(dir + "/wire_roundtrip/mixed-fields",
                    Bytes{0x40, 0x05, 'p',  'a',  't',  'h',  0x06, 0x01, 0x02, 0x03, 0x04,
                          0x05, 0x06, 0x07, 0x08, 0x03, 0x02, 0x00, 0x80, 0x20, 0xc8}) &&
         ok;
    ok = write_file(dir + "/wire_roundtrip/tiny-buffer", Bytes{0x05, 0x03, 0x00, 0x21}) && ok;
    return ok ? 0 : 1;
}

#include "trace_rotation.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "trace/trace_reader.hpp"
#include "wire/collector_records.hpp"
#include "wire/shim_records.hpp"

namespace cowtrace::collector {

TraceRotation::TraceRotation(RotationOptions options, std::string trace_path)
    : opt_(options), path_(std::move(trace_path)) {}

void TraceRotation::on_record(const uint8_t* bytes, size_t size) {
    RawRecord rec;
    if (size < sizeof rec.header) return;
    memcpy(&rec.header, bytes, sizeof rec.header);
    if (rec.header.size != size) return;
    rec.payload = std::span<const uint8_t>(bytes + sizeof rec.header, size - sizeof rec.header);
    const wire::RecordHeader& h = rec.header;
    switch (static_cast<wire::RecordType>(h.type)) {
        case wire::RecordType::kHello: {
            wire::Hello hello;
            if (!decode(rec, hello)) return;
            Known& k = processes_[h.pid];
            if (k.creator == 0 && hello.ppid > 0) k.creator = hello.ppid;
            if (k.start_t_ns == 0) k.start_t_ns = h.t_ns;
            k.library_loaded = true;
            k.execfn = hello.execfn.view();
            k.argv.clear();
            hello.argv.for_each([&](std::string_view a) { k.argv.emplace_back(a); });
            break;
        }
        case wire::RecordType::kChildStart: {
            // A vfork child speaks on its parent's channel but names itself: no Created record
            // follows it (its creator could not name it), only the SpawnBegin its token claims.
            wire::ChildStart start;
            if (!decode(rec, start)) return;
            Known& k = processes_[h.pid];
            k.creator = start.parent;
            k.how = start.how;
            k.start_t_ns = h.t_ns;
            k.library_loaded = true;
            if (start.token != 0) claim_begin(k, start.parent, start.token);
            break;
        }
        case wire::RecordType::kSpawnBegin: {
            wire::SpawnBegin begin;
            if (!decode(rec, begin) || begin.token == 0) return;
            std::vector<uint64_t> frames;
            begin.call_site.for_each([&](uint64_t ip) { frames.push_back(ip); });
            auto& pending = begins_[h.pid];
            if (pending.size() >= kMaxPendingBegins) pending.erase(pending.begin());
            pending.emplace_back(begin.token, std::move(frames));
            break;
        }
        case wire::RecordType::kCreated: {
            wire::Created created;
            if (!decode(rec, created) || created.child <= 0) return;
            Known& k = processes_[created.child];
            if (k.creator == 0) k.creator = h.pid;
            if (k.how == wire::CreateHow::kUnknown) k.how = created.how;
            if (k.start_t_ns == 0) k.start_t_ns = h.t_ns;
            k.call_site.clear();
            created.call_site.for_each([&](uint64_t ip) { k.call_site.push_back(ip); });
            break;
        }
        case wire::RecordType::kSymbol: {
            wire::Symbol symbol;
            if (!decode(rec, symbol)) break;
            std::vector<std::string>& frames = symbols_[{symbol.pid, symbol.address}];
            frames = {std::string(symbol.name.view())};
            symbol.inlined_into.for_each([&](std::string_view f) { frames.emplace_back(f); });
            break;
        }
        case wire::RecordType::kKernelFork: {
            wire::KernelFork fork;
            if (!decode(rec, fork)) return;
            Known& k = processes_[h.pid];
            if (k.creator == 0) k.creator = fork.parent;
            if (k.start_t_ns == 0) k.start_t_ns = h.t_ns;
            break;
        }
        case wire::RecordType::kEpisodeStart:
            episodes_[h.pid].assign(bytes, bytes + size);
            break;
        case wire::RecordType::kEpisodeEnd: {
            wire::EpisodeEnd end;
            // Still running: the end this class writes itself into a file that rotates.
            if (decode(rec, end) && end.reason != wire::EpisodeEndReason::kRunning)
                episodes_.erase(h.pid);
            break;
        }
        default:
            break;
    }
}

void TraceRotation::claim_begin(Known& k, pid_t parent, uint32_t token) {
    auto it = begins_.find(parent);
    if (it == begins_.end()) return;
    auto& pending = it->second;
    for (auto b = pending.begin(); b != pending.end(); ++b) {
        if (b->first != token) continue;
        k.call_site = std::move(b->second);
        pending.erase(b);
        break;
    }
    if (pending.empty()) begins_.erase(it);
}

void TraceRotation::process_gone(pid_t pid) {
    processes_.erase(pid);
    begins_.erase(pid);
}

bool TraceRotation::due(uint64_t now_ns, uint64_t file_t0_ns, uint64_t file_bytes) const {
    if (opt_.max_bytes > 0 && file_bytes >= opt_.max_bytes) return true;
    return opt_.max_age_ns > 0 && now_ns >= file_t0_ns + opt_.max_age_ns;
}

void TraceRotation::close_episodes(TraceWriter& trace, uint64_t t_ns) const {
    for (const auto& [child, start] : episodes_) {
        trace.write(wire::EpisodeEnd{wire::EpisodeEndReason::kRunning, false}, child, t_ns);
    }
}

std::vector<int32_t> TraceRotation::alive() const {
    std::vector<int32_t> pids;
    pids.reserve(processes_.size());
    for (const auto& [pid, k] : processes_) pids.push_back(pid);
    return pids;
}

bool TraceRotation::shift_files(std::string& error) const {
    auto numbered = [this](unsigned n) { return path_ + "." + std::to_string(n); };
    unsigned keep = opt_.keep > 0 ? opt_.keep : 1;
    if (unlink(numbered(keep).c_str()) != 0 && errno != ENOENT) {
        error = "cannot remove " + numbered(keep) + ": " + strerror(errno);
        return false;
    }
    for (unsigned n = keep - 1; n >= 1; --n) {
        if (rename(numbered(n).c_str(), numbered(n + 1).c_str()) != 0 && errno != ENOENT) {
            error = "cannot rename " + numbered(n) + ": " + strerror(errno);
            return false;
        }
    }
    if (rename(path_.c_str(), numbered(1).c_str()) != 0) {
        error = "cannot rename " + path_ + " to " + numbered(1) + ": " + strerror(errno);
        return false;
    }
    return true;
}

void TraceRotation::carry_over(TraceWriter& trace, uint64_t t_ns) {
    for (const auto& [pid, k] : processes_) {
        for (uint64_t ip : k.call_site) {
            auto name = symbols_.find({k.creator, ip});
            if (name == symbols_.end()) continue;
            std::vector<const char*> inlined_into;
            for (size_t i = 1; i < name->second.size(); ++i)
                inlined_into.push_back(name->second[i].c_str());
            inlined_into.push_back(nullptr);
            wire::Symbol symbol;
            symbol.pid = k.creator;
            symbol.address = ip;
            symbol.name = name->second.front();
            symbol.inlined_into = wire::TextList::of_array(inlined_into.data());
            trace.write(symbol, pid, t_ns);
        }
        std::vector<const char*> argv;
        for (const auto& a : k.argv) argv.push_back(a.c_str());
        argv.push_back(nullptr);
        wire::ProcessCarried carried;
        carried.creator = k.creator;
        carried.how = k.how;
        carried.start_t_ns = k.start_t_ns;
        carried.library_loaded = k.library_loaded;
        carried.execfn = k.execfn;
        carried.argv = wire::TextList::of_array(argv.data());
        carried.call_site = wire::U64List(k.call_site.data(), k.call_site.size());
        trace.write(carried, pid, t_ns);
    }
    symbols_.clear();
    for (const auto& [child, start] : episodes_) {
        std::vector<uint8_t> copy = start;
        wire::RecordHeader h;
        memcpy(&h, copy.data(), sizeof h);
        h.t_ns = t_ns;  // within this file; its fork time is in the record
        memcpy(copy.data(), &h, sizeof h);
        trace.append(copy.data(), copy.size());
    }
}

}  // namespace cowtrace::collector

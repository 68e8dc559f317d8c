#include "live_state.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "trace/trace_reader.hpp"
#include "wire/collector_records.hpp"
#include "wire/shim_records.hpp"

namespace cowtrace::live {

namespace {

std::string joined(const wire::TextList& words) {
    std::string out;
    words.for_each([&](std::string_view w) {
        if (!out.empty()) out += ' ';
        out += w;
    });
    return out;
}

// The command line, or the image when there is none.
std::string command_of(const wire::TextList& argv, std::string_view execfn) {
    std::string words = joined(argv);
    return words.empty() ? std::string(execfn) : words;
}

}  // namespace

LiveProcess& LiveState::process(pid_t pid) {
    return processes_[pid];
}

void LiveState::set_parent(pid_t child, pid_t parent, bool inherits_command) {
    if (parent <= 0) return;
    LiveProcess& p = process(child);
    p.parent = parent;
    // A copy of its creator runs its creator's program until it execs.
    if (!inherits_command || !p.command.empty()) return;
    auto creator = processes_.find(parent);
    if (creator != processes_.end()) p.command = creator->second.command;
}

void LiveState::set_command(pid_t pid, std::string command) {
    if (!command.empty()) process(pid).command = std::move(command);
}

void LiveState::on_record(const uint8_t* bytes, size_t size) {
    RawRecord rec;
    if (size < sizeof rec.header) return;
    memcpy(&rec.header, bytes, sizeof rec.header);
    if (rec.header.size != size) return;
    rec.payload = std::span<const uint8_t>(bytes + sizeof rec.header, size - sizeof rec.header);
    pid_t pid = rec.header.pid;
    uint64_t t = rec.header.t_ns;
    switch (static_cast<wire::RecordType>(rec.header.type)) {
        case wire::RecordType::kHello: {
            wire::Hello hello;
            if (!decode(rec, hello)) return;
            set_command(pid, command_of(hello.argv, hello.execfn.view()));
            if (process(pid).parent == 0) set_parent(pid, hello.ppid, false);
            break;
        }
        case wire::RecordType::kChildStart: {
            wire::ChildStart start;
            if (!decode(rec, start)) return;
            set_parent(pid, start.parent, !(rec.header.flags & wire::kFromVforkChild));
            break;
        }
        case wire::RecordType::kKernelFork: {
            wire::KernelFork fork;
            if (decode(rec, fork)) set_parent(pid, fork.parent, true);
            break;
        }
        case wire::RecordType::kKernelExec: {
            wire::KernelExec exec;
            if (decode(rec, exec)) set_command(pid, command_of(exec.argv, exec.execfn.view()));
            break;
        }
        case wire::RecordType::kProcessCarried: {
            wire::ProcessCarried carried;
            if (!decode(rec, carried)) return;
            set_command(pid, command_of(carried.argv, carried.execfn.view()));
            set_parent(pid, carried.creator, true);
            break;
        }
        case wire::RecordType::kEpisodeStart: {
            wire::EpisodeStart start;
            if (!decode(rec, start)) return;
            episode_started(pid, start.parent, start.fork_t_ns ? start.fork_t_ns : t,
                            start.shared_bytes);
            break;
        }
        case wire::RecordType::kEpisodeSample: {
            wire::EpisodeSample sample;
            if (decode(rec, sample)) {
                episode_sampled(pid, t, sample.shared_bytes, sample.copied_bytes, sample.estimated);
            }
            break;
        }
        case wire::RecordType::kEpisodeEnd: {
            wire::EpisodeEnd end;
            if (!decode(rec, end)) return;
            // A trace that ends with the episode open says so; the episode goes on.
            if (end.reason == wire::EpisodeEndReason::kRunning) return;
            episode_ended(pid, t, end.reason);
            break;
        }
        case wire::RecordType::kMemorySample: {
            wire::MemorySample sample;
            if (decode(rec, sample)) tree_pss_.memory_sampled(pid, sample.pss_bytes);
            break;
        }
        default:
            break;
    }
}

void LiveState::on_process_started(pid_t pid) {
    if (!alive_.insert(pid).second) return;
    ++processes_seen_;
    tree_pss_.process_started(pid);
    process(pid).alive = true;
}

void LiveState::on_process_ended(pid_t pid) {
    alive_.erase(pid);
    tree_pss_.process_ended(pid);
    processes_.erase(pid);
}

void LiveState::episode_started(pid_t child, pid_t parent, uint64_t t_ns, uint64_t shared_bytes) {
    if (episodes_.count(child)) return;
    ++episodes_seen_;
    LiveEpisode e;
    e.parent = parent;
    if (auto known = processes_.find(parent); known != processes_.end()) {
        e.parent_command = known->second.command;
    }
    e.fork_t_ns = t_ns;
    e.shared_bytes = shared_bytes;
    tree_pss_.episode_started(child, parent, shared_bytes);
    episodes_.emplace(child, e);
}

void LiveState::episode_sampled(pid_t child, uint64_t t_ns, uint64_t shared_bytes,
                                uint64_t copied_bytes, bool estimated) {
    auto it = episodes_.find(child);
    if (it == episodes_.end()) return;
    LiveEpisode& e = it->second;
    if (e.samples > 0 && t_ns > e.last_sample_t_ns) {
        // Copies only add up; a smaller figure (pages freed, an estimate's noise) is no copying.
        double grown = copied_bytes > e.copied_bytes ? double(copied_bytes - e.copied_bytes) : 0.0;
        e.copied_bytes_per_s = grown * 1e9 / double(t_ns - e.last_sample_t_ns);
    }
    ++e.samples;
    e.last_sample_t_ns = t_ns;
    tree_pss_.episode_sampled(child, shared_bytes);
    e.copied_bytes = copied_bytes;
    if (!estimated) e.copied_peak_bytes = std::max(e.copied_peak_bytes, copied_bytes);
    e.estimated = estimated;
}

void LiveState::episode_ended(pid_t child, uint64_t t_ns, wire::EpisodeEndReason reason) {
    auto it = episodes_.find(child);
    if (it == episodes_.end()) return;
    LiveEpisode& e = it->second;
    bool short_lived = reason == wire::EpisodeEndReason::kShortLived;
    tree_pss_.episode_ended(child, reason == wire::EpisodeEndReason::kExit);
    EndedEpisode ended;
    ended.parent = e.parent;
    ended.child = child;
    auto parent = processes_.find(e.parent);
    if (parent != processes_.end()) ended.command = parent->second.command;
    if (ended.command.empty()) ended.command = e.parent_command;
    ended.duration_ns = t_ns > e.fork_t_ns ? t_ns - e.fork_t_ns : 0;
    ended.shared_bytes = e.shared_bytes;
    bool counted = e.copied_peak_bytes > 0 || !e.estimated;
    ended.copied_bytes = counted ? e.copied_peak_bytes : e.copied_bytes;
    // As the report model has it: an episode ended before its first sample measured nothing.
    ended.measured = !short_lived && e.samples > 0;
    ended.estimated = !counted;
    if (ended.measured) copied_ended_bytes_ += ended.copied_bytes;
    episodes_.erase(it);
    ended_.push_back(ended);
    if (ended_.size() > kRecentEnded) ended_.pop_front();
    if (on_episode_ended) on_episode_ended(ended);
}

uint64_t LiveState::copied_open_bytes() const {
    uint64_t sum = 0;
    for (const auto& [child, e] : episodes_) sum += e.copied_bytes;
    return sum;
}

}  // namespace cowtrace::live

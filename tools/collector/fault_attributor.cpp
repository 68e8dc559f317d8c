#include "fault_attributor.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "record_buffer.hpp"
#include "wire/collector_records.hpp"

namespace cowtrace::collector {
namespace {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kSecondNs = 1'000'000'000;
// Rings wake the thread at a watermark; this timeout drains the little that stays below it.
constexpr uint64_t kIdleWaitNs = 100'000'000;

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * kSecondNs + static_cast<uint64_t>(ts.tv_nsec);
}

bool is_prime(uint64_t n) {
    if (n < 2) return false;
    for (uint64_t d = 2; d * d <= n; ++d)
        if (n % d == 0) return false;
    return true;
}

uint64_t next_prime(uint64_t n) {
    while (!is_prime(n)) ++n;
    return n;
}

}  // namespace

bool parse_attribution_mode(const std::string& text, AttributionMode& out) {
    if (text == "off")
        out = AttributionMode::kOff;
    else if (text == "sampled")
        out = AttributionMode::kSampled;
    else if (text == "full")
        out = AttributionMode::kFull;
    else
        return false;
    return true;
}

FaultAttributor::FaultAttributor(AttributionMode mode, Deliver deliver)
    : mode_(mode), deliver_(std::move(deliver)) {}

FaultAttributor::~FaultAttributor() {
    finish();
    if (wake_fd_ >= 0) close(wake_fd_);
}

bool FaultAttributor::start(std::string& error) {
    if (mode_ == AttributionMode::kOff) return false;
    PageFaultSampler::Options options;
    options.period = mode_ == AttributionMode::kFull ? 1 : kBasePeriod;
    if (!sampler_.open(options, error)) return false;
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        error = "eventfd failed";
        return false;
    }
    thread_ = std::thread([this] { run(); });
    pthread_setname_np(thread_.native_handle(), "cowtrace-faults");
    return true;
}

void FaultAttributor::post(Command command) {
    if (!thread_.joinable()) return;
    command.posted_ns = monotonic_ns();
    bool wake;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        wake = sleeping_until_ns_ != 0 && due_ns(command) < sleeping_until_ns_;
        commands_.push_back(std::move(command));
    }
    if (!wake) return;
    uint64_t one = 1;
    ssize_t n = write(wake_fd_, &one, sizeof one);
    (void)n;
}

// A spawn-heavy program's episodes start and end within the hold-off, and nothing needs doing
// for them until then: waking the thread three times a fork cost about as much CPU as the
// census (on a virtual machine where a wake-up is dear). A command wakes it only when it must
// be handled before the thread would wake anyway.
uint64_t FaultAttributor::due_ns(const Command& c) const {
    switch (c.kind) {
        case Command::Kind::kStart:
            return c.t_ns + delay_.hold_off_ns();  // its events open then, not before
        case Command::Kind::kPages:
        case Command::Kind::kEnd:
        case Command::Kind::kCancel:
            // Only a sampled episode's rings and unwinder need its news at once.
            return sampled_episodes_.load() > 0 ? 0 : UINT64_MAX;
        case Command::Kind::kUnread:
            return UINT64_MAX;
        case Command::Kind::kFinish:
            break;
    }
    return 0;
}

void FaultAttributor::episode_started(pid_t parent, pid_t child, uint64_t fork_t_ns) {
    post(Command{Command::Kind::kStart, parent, child, fork_t_ns, {}});
}

void FaultAttributor::fork_pages_known(pid_t child,
                                       std::vector<std::pair<uint64_t, uint64_t>> runs) {
    post(Command{Command::Kind::kPages, 0, child, 0, std::move(runs)});
}

void FaultAttributor::episode_ended(pid_t child, uint64_t ended_t_ns) {
    post(Command{Command::Kind::kEnd, 0, child, 0, {}, ended_t_ns});
}

void FaultAttributor::child_ended_unread(pid_t parent, uint64_t fork_t_ns, uint64_t ended_t_ns) {
    post(Command{Command::Kind::kUnread, parent, 0, fork_t_ns, {}, ended_t_ns});
}

void FaultAttributor::episode_cancelled(pid_t child) {
    post(Command{Command::Kind::kCancel, 0, child, 0, {}});
}

void FaultAttributor::finish() {
    if (!thread_.joinable()) return;
    post(Command{Command::Kind::kFinish, 0, 0, 0, {}});
    thread_.join();
}

void FaultAttributor::run() {
    std::vector<pollfd> fds;
    fds.push_back({wake_fd_, POLLIN, 0});
    for (int fd : sampler_.ring_fds()) fds.push_back({fd, POLLIN, 0});
    for (;;) {
        // Woken by a command that cannot wait (due_ns), a ring's watermark, the next held-off
        // episode falling due, or the idle timeout.
        uint64_t now = monotonic_ns();
        uint64_t wait_ns =
            std::min(kIdleWaitNs, delay_.ns_until_next_due(now).value_or(kIdleWaitNs));
        {
            std::lock_guard<std::mutex> lock(mutex_);
            for (const Command& c : commands_) {
                uint64_t due = due_ns(c);
                wait_ns = std::min(wait_ns, due > now ? due - now : 0);
            }
            sleeping_until_ns_ = wait_ns > 0 ? now + wait_ns : 0;
        }
        timespec timeout{static_cast<time_t>(wait_ns / kSecondNs),
                         static_cast<long>(wait_ns % kSecondNs)};
        ppoll(fds.data(), fds.size(), &timeout, nullptr);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            sleeping_until_ns_ = 0;
        }
        uint64_t ignored;
        ssize_t n = read(wake_fd_, &ignored, sizeof ignored);
        (void)n;
        drain();
        std::deque<Command> commands;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            commands.swap(commands_);
        }
        for (Command& c : commands) {
            if (c.kind == Command::Kind::kFinish) {
                drain();
                std::vector<pid_t> open;
                for (const auto& [child, e] : episodes_) open.push_back(child);
                for (pid_t child : open) end_episode(child, c.posted_ns);
                deliver_pending();
                return;
            }
            handle(c);
        }
        deliver_pending();
        // After the commands: an episode whose end came with them never opens its events.
        now = monotonic_ns();
        open_due(now);
        adapt_period(now);
    }
}

void FaultAttributor::handle(Command& c) {
    switch (c.kind) {
        case Command::Kind::kStart: {
            if (episodes_.count(c.child)) end_episode(c.child, c.posted_ns);  // a pid seen again
            Episode e;
            e.copies = std::make_unique<CopyAttribution>(c.parent, c.child, c.t_ns);
            episodes_[c.child] = std::move(e);
            delay_.hold_off(c.child, c.parent, c.t_ns);
            break;
        }
        case Command::Kind::kPages: {
            auto it = episodes_.find(c.child);
            if (it != episodes_.end()) it->second.copies->set_fork_pages(std::move(c.runs));
            break;
        }
        case Command::Kind::kEnd:
            drain();
            end_episode(c.child, c.ended_ns != 0 ? std::min(c.ended_ns, c.posted_ns) : c.posted_ns);
            break;
        case Command::Kind::kUnread:
            delay_.ended(c.parent, c.t_ns, std::max(c.t_ns, c.ended_ns));
            break;
        case Command::Kind::kCancel: {
            auto it = episodes_.find(c.child);
            if (it == episodes_.end()) break;
            pid_t parent = it->second.copies->parent();
            bool sampled = it->second.sampled;
            // It ended before the census thread could read it: a quick child, however late the
            // census thread (on a loaded machine) got to it.
            uint64_t fork_t_ns = it->second.copies->fork_t_ns();
            delay_.ended(parent, fork_t_ns, fork_t_ns);
            episodes_.erase(it);
            delay_.forget(c.child);
            if (!sampled) break;
            --sampled_episodes_;
            release(parent);
            release(c.child);
            break;
        }
        case Command::Kind::kFinish:
            break;
    }
}

void FaultAttributor::open_due(uint64_t now_ns) {
    for (pid_t child : delay_.take_due(now_ns)) {
        auto it = episodes_.find(child);
        if (it != episodes_.end()) open_episode(child, it->second);
    }
}

void FaultAttributor::open_episode(pid_t child, Episode& e) {
    pid_t parent = e.copies->parent();
    uint64_t fork_t_ns = e.copies->fork_t_ns();
    std::string error;
    // The child copies its parent's layout until it execs: one unwinder serves both.
    pid_t layout = layout_of_.count(parent) ? layout_of_[parent] : parent;
    if (!hold(parent, error)) e.unavailable = "parent: " + error;
    layout_of_[parent] = layout;
    if (!hold_child(parent, child, fork_t_ns, error) && e.unavailable.empty())
        e.unavailable = "child: " + error;
    layout_of_[child] = layout;
    if (!unwinders_.count(layout)) {
        auto unwinder = std::make_unique<SampledStackUnwinder>(layout, files_);
        if (unwinder->valid()) unwinders_[layout] = std::move(unwinder);
    }
    e.counts_at_start = sampler_.counts(parent);
    e.sampled = true;
    ++sampled_episodes_;
}

bool FaultAttributor::hold(pid_t pid, std::string& error) {
    if (holds_[pid]++ > 0) return true;
    bool ok = sampler_.add_process(pid, error);
    // After the open: a child forked later surely inherited the events.
    sampled_since_[pid] = monotonic_ns();
    return ok;
}

bool FaultAttributor::hold_child(pid_t parent, pid_t child, uint64_t fork_t_ns,
                                 std::string& error) {
    auto since = sampled_since_.find(parent);
    bool inherited = holds_.count(child) == 0 && holds_[parent] > 0 &&
                     since != sampled_since_.end() && since->second < fork_t_ns;
    if (!inherited) return hold(child, error);
    ++holds_[child];
    sampled_since_[child] = fork_t_ns;
    inherited_period_[child] = sampler_.period();
    return true;
}

void FaultAttributor::release(pid_t pid) {
    auto it = holds_.find(pid);
    if (it == holds_.end() || --it->second > 0) return;
    holds_.erase(it);
    sampled_since_.erase(pid);
    inherited_period_.erase(pid);
    sampler_.remove_process(pid);  // none of its own if it inherited its parent's
    pid_t layout = layout_of_.count(pid) ? layout_of_[pid] : pid;
    layout_of_.erase(pid);
    bool used = false;
    for (const auto& [p, l] : layout_of_) used = used || l == layout;
    if (!used) unwinders_.erase(layout);
}

void FaultAttributor::drain() {
    sampler_.drain([this](const FaultSample& s) { on_sample(s); });
}

void FaultAttributor::on_sample(const FaultSample& sample) {
    ++window_samples_;
    // Which episodes this process is a side of (a parent may have several children).
    std::vector<CopyAttribution*> sides;
    for (auto& [child, e] : episodes_) {
        if (!e.sampled) continue;  // held off: a parent sampled for another episode
        if (e.copies->parent() == sample.pid || e.copies->child() == sample.pid)
            sides.push_back(e.copies.get());
    }
    if (sides.empty()) return;
    auto layout = layout_of_.find(sample.pid);
    auto unwinder = layout != layout_of_.end() ? unwinders_.find(layout->second) : unwinders_.end();
    std::vector<UnwoundFrame> frames;
    if (unwinder != unwinders_.end()) {
        frames = unwinder->second->unwind(sample);
    } else {
        UnwoundFrame f;
        f.pc = sample.ip;
        frames.push_back(f);
    }
    uint32_t path = path_id(frames);
    auto inherited = inherited_period_.find(sample.pid);
    uint64_t weight = inherited != inherited_period_.end() ? inherited->second : sampler_.period();
    for (CopyAttribution* c : sides) c->add(sample.pid, sample.t_ns, sample.address, weight, path);
}

uint32_t FaultAttributor::path_id(const std::vector<UnwoundFrame>& frames) {
    std::vector<std::pair<std::string, uint64_t>> key;
    key.reserve(frames.size());
    for (const UnwoundFrame& f : frames)
        key.emplace_back(f.module, f.module.empty() ? f.pc : f.file_offset);
    auto [it, added] = path_ids_.emplace(std::move(key), static_cast<uint32_t>(paths_.size()));
    if (added) paths_.push_back(frames);
    return it->second;
}

std::vector<std::string> FaultAttributor::describe_path(uint32_t path) {
    std::vector<std::string> out;
    for (const UnwoundFrame& f : paths_[path]) {
        if (f.module.empty()) {
            char text[32];
            snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(f.pc));
            out.emplace_back(text);
            continue;
        }
        for (const SourceFrame& s :
             symbolizer_.frames_at(f.module, f.file_offset, f.return_address))
            out.push_back(SourceSymbolizer::describe(s, f.file_offset));
    }
    return out;
}

void FaultAttributor::end_episode(pid_t child, uint64_t ended_t_ns) {
    auto it = episodes_.find(child);
    if (it == episodes_.end()) return;
    Episode& e = it->second;
    uint64_t hold_ns = 0;
    if (delay_.forget(child, &hold_ns))
        e.unavailable = delay_.unsampled_reason(e.copies->fork_t_ns(), ended_t_ns, hold_ns);
    delay_.ended(e.copies->parent(), e.copies->fork_t_ns(), ended_t_ns);
    const CopyAttribution& copies = *e.copies;
    std::vector<std::vector<uint8_t>> records;
    uint64_t t_ns = monotonic_ns();
    CopyAttribution::Result result;
    if (copies.fork_pages_known()) result = copies.classify();
    uint64_t attributed = 0;
    for (const auto& p : result.copies) {
        std::vector<std::string> frames = describe_path(p.path);
        std::vector<const char*> list;
        for (const auto& f : frames) list.push_back(f.c_str());
        list.push_back(nullptr);
        wire::CopyPath record;
        record.fork_t_ns = copies.fork_t_ns();
        record.side =
            p.side == FaultSide::kParent ? wire::CopySide::kParent : wire::CopySide::kChild;
        record.samples = p.samples;
        record.copied_bytes = p.faults * kPageSize;
        record.frames = wire::TextList::of_array(list.data());
        attributed += record.copied_bytes;
        records.push_back(encode_record_buffer(record, child, t_ns, wire::kMaxCopyPathBytes + 256));
    }
    wire::CopyAttribution summary;
    summary.fork_t_ns = copies.fork_t_ns();
    std::string unavailable = e.unavailable;
    if (unavailable.empty() && !copies.fork_pages_known())
        unavailable = "the fork-time memory was not read";
    summary.unavailable = unavailable;
    summary.period = sampler_.period();
    summary.samples = result.samples;
    summary.copy_samples = result.copy_samples;
    summary.new_page_samples = result.new_page_samples;
    summary.repeat_samples = result.repeat_samples;
    if (e.sampled) {
        PageFaultSampler::Counts parent_now = sampler_.counts(copies.parent());
        PageFaultSampler::Counts child_now = sampler_.counts(child);
        summary.lost_samples =
            (parent_now.lost - std::min(parent_now.lost, e.counts_at_start.lost)) + child_now.lost;
    }
    summary.attributed_bytes = attributed;
    records.push_back(encode_record_buffer(summary, child, t_ns, 8192));
    pid_t parent = copies.parent();
    bool sampled = e.sampled;
    episodes_.erase(it);
    if (sampled) {
        --sampled_episodes_;
        release(parent);
        release(child);
    }
    for (auto& r : records) pending_.push_back(std::move(r));
}

void FaultAttributor::deliver_pending() {
    if (pending_.empty()) return;
    deliver_(std::move(pending_));
    pending_.clear();
}

void FaultAttributor::adapt_period(uint64_t now_ns) {
    if (mode_ != AttributionMode::kSampled) return;
    if (window_start_ns_ == 0) window_start_ns_ = now_ns;
    uint64_t elapsed = now_ns - window_start_ns_;
    if (elapsed < kSecondNs / 4) return;
    uint64_t rate = window_samples_ * kSecondNs / elapsed;
    uint64_t period = sampler_.period();
    if (rate > kMaxSamplesPerSecond) {
        period = next_prime(period * 2);
    } else if (rate < kMaxSamplesPerSecond / 4 && period > kBasePeriod) {
        period = std::max(kBasePeriod, next_prime(period / 2));
    }
    sampler_.set_period(period);
    window_start_ns_ = now_ns;
    window_samples_ = 0;
}

}  // namespace cowtrace::collector

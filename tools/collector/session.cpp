#include "session.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "attached_processes.hpp"
#include "census_service.hpp"
#include "children_poller.hpp"
#include "core/pagemap.hpp"
#include "core/thread_group.hpp"
#include "cow_sampler.hpp"
#include "wire/collector_records.hpp"
#include "wire/shim_records.hpp"

namespace cowtrace::collector {

namespace {

// Images no preloaded library enters: their processes are observed from outside.
constexpr uint32_t kImageWithoutLibrary =
    wire::kImageStatic | wire::kImageSetid | wire::kImageFileCaps | wire::kImageNoPreload;

constexpr uint64_t kDrainDeadlineNs = 3'000'000'000ull;
constexpr uint64_t kSweepIntervalNs = 5'000'000'000ull;

// The file execvp would run for name: itself if it has a slash, else the first executable
// match in PATH (empty: not found).
std::string file_in_path(const std::string& name) {
    if (name.find('/') != std::string::npos) return name;
    const char* path = getenv("PATH");
    std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::string dir = end > start ? dirs.substr(start, end - start) : ".";
        std::string candidate = dir + "/" + name;
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
        start = end + 1;
    }
    return {};
}

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t realtime_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Where the private socket directory goes: $XDG_RUNTIME_DIR, $TMPDIR, then /tmp — the first
// that leaves room for a socket path.
std::string make_private_dir(std::string& error) {
    for (const char* var : {"XDG_RUNTIME_DIR", "TMPDIR"}) {
        const char* base = getenv(var);
        if (base == nullptr || *base == '\0' || strlen(base) > 60) continue;
        std::string tmpl = std::string(base) + "/cowtrace-XXXXXX";
        if (mkdtemp(tmpl.data()) != nullptr) return tmpl;
    }
    std::string tmpl = "/tmp/cowtrace-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) return tmpl;  // mkdtemp creates it 0700
    error = std::string("cannot create a private directory for the socket: ") + strerror(errno);
    return {};
}

// A NULL-terminated array of the strings' characters (they must outlive it).
std::vector<const char*> c_strings(const std::vector<std::string>& v) {
    std::vector<const char*> ptrs;
    for (const auto& s : v) ptrs.push_back(s.c_str());
    ptrs.push_back(nullptr);
    return ptrs;
}

// The list's frames, in frames (cleared first: a buffer reused record after record).
const std::vector<uint64_t>& frames_of(const wire::U64List& list, std::vector<uint64_t>& frames) {
    frames.clear();
    list.for_each([&](uint64_t ip) { frames.push_back(ip); });
    return frames;
}

}  // namespace

Session::Session(SessionOptions options) : opt_(std::move(options)) {}

Session::~Session() {
    for (int fd : {epoll_fd_, signal_fd_, timer_fd_}) {
        if (fd >= 0) close(fd);
    }
    if (!private_dir_.empty()) {
        unlink((private_dir_ + "/sock").c_str());
        rmdir(private_dir_.c_str());
    }
}

uint64_t Session::now_ns() const {
    return monotonic_ns();
}

SessionResult Session::run() {
    // Diagnostics for people debugging a collection: SPDLOG_LEVEL=debug cowtrace run ...
    // Our messages go to stderr: the command's stdout is passed through untouched.
    if (!spdlog::get("cowtrace")) spdlog::set_default_logger(spdlog::stderr_color_mt("cowtrace"));
    spdlog::set_level(spdlog::level::warn);
    spdlog::cfg::load_env_levels();
    spdlog::set_pattern("cowtrace [%l] %v");
    std::string error;
    if (!setup(error)) {
        result_.error = error;
        result_.exit_code = 1;
        return result_;
    }
    if (attached_) {
        start_attach();
    } else if (!opt_.command.empty() && !start_command(error)) {
        result_.error = error;
        result_.exit_code = 127;
        finish();
        return result_;
    }
    loop();
    finish();
    return result_;
}

bool Session::setup(std::string& error) {
    self_pid_ = getpid();
    t0_ns_ = now_ns();
    attached_ = !opt_.attach.empty();
    for (pid_t pid : opt_.attach) {
        error = attach_refusal(pid);
        if (!error.empty()) return false;
    }
    if (opt_.socket_path.empty()) {
        private_dir_ = make_private_dir(error);
        if (private_dir_.empty()) return false;
        opt_.socket_path = private_dir_ + "/sock";
    }
    // Listening first: a collector that cannot start must not truncate an earlier trace.
    if (!shims_.listen(opt_.socket_path, error)) return false;
    if (opt_.metrics.any()) {
        metrics_ = std::make_unique<MetricsExporter>(opt_.metrics);
        if (!metrics_->start(error)) return false;
        if (!opt_.quiet && !opt_.metrics.listen.empty()) {
            fprintf(stderr, "cowtrace: metrics on %s (port %s), path /metrics\n",
                    opt_.metrics.listen.c_str(), metrics_->listening_on().c_str());
        }
    }
    if (!trace_.open(opt_.trace_path, error)) return false;
    file_t0_ns_ = t0_ns_;
    if (opt_.rotation.enabled())
        rotation_ = std::make_unique<TraceRotation>(opt_.rotation, opt_.trace_path);
    if (metrics_ || rotation_ || opt_.observer) {
        trace_.observe([this](const uint8_t* r, size_t n) {
            if (metrics_) metrics_->on_record(r, n);
            if (opt_.observer) opt_.observer->on_record(r, n);
            if (rotation_) rotation_->on_record(r, n);
            forget_if_ended(r, n);
        });
    }
    if (!opt_.command.empty()) {
        spool_ = std::make_unique<RunSpool>(opt_.trace_path);
        if (!spool_->create(error)) return false;
    }
    images_ =
        std::make_unique<ImageInspector>(opt_.socket_path, spool_ ? spool_->path() : std::string());

    if (!opt_.command.empty() && prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        error = std::string("cannot become a subreaper: ") + strerror(errno);
        return false;
    }
    if (attached_ && opt_.poll_children) {
        kernel_note_ = "not used: --poll-children";
    } else if (opt_.kernel_events) {
        kernel_ok_ = kernel_.open(kernel_note_);
        // Attach depends on the events wholly: they must name the processes as we see them.
        if (kernel_ok_ && attached_) {
            kernel_ok_ = kernel_.names_our_processes(500, kernel_note_);
            t0_ns_ = file_t0_ns_ = now_ns();  // the trace begins with the attach, not the probe
        }
        if (!kernel_ok_) spdlog::info("kernel cross-check unavailable: {}", kernel_note_);
    } else {
        kernel_note_ = "disabled by --no-kernel-events";
    }
    // Without the kernel's process events, attach looks for them in /proc at the interval.
    if (attached_ && !kernel_ok_) poller_ = std::make_unique<ChildrenPoller>();

    // Signals arrive through a descriptor; the command gets them with default handling.
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&mask, s);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal_fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (signal_fd_ < 0 || timer_fd_ < 0 || epoll_fd_ < 0) {
        error = std::string("event setup failed: ") + strerror(errno);
        return false;
    }
    auto watch = [this](int fd) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    };
    watch(shims_.listen_fd());
    watch(signal_fd_);
    watch(timer_fd_);
    if (kernel_ok_) watch(kernel_.fd());

    auto ack = [this](uint64_t id, uint32_t status) {
        wire::CensusAck reply;
        reply.status = status;
        shims_.reply(id, &reply, sizeof reply);
    };
    if (opt_.census) {
        bool pfns = pagemap::pfns_visible();
        if (opt_.census_mode == "exact" && !pfns) {
            error =
                "--mode exact needs page frame numbers, which only root (CAP_SYS_ADMIN) can "
                "read; run as root or use --mode unprivileged";
            return false;
        }
        CensusMode mode = (opt_.census_mode == "unprivileged" || !pfns) ? CensusMode::kUnprivileged
                                                                        : CensusMode::kExact;
        AttributionMode attribution = AttributionMode::kOff;
        if (!parse_attribution_mode(opt_.attribution, attribution)) {
            error = "--attribution must be off, sampled or full";
            return false;
        }
        census_ = std::make_unique<CowSampler>(trace_, ack, mode, opt_.interval_ns, opt_.duty_cycle,
                                               attribution);
        spdlog::debug("copy-on-write census in {} mode, interval {} ms", census_->mode_name(),
                      opt_.interval_ns / 1000000);
    } else {
        census_ = std::make_unique<CensusService>(trace_, ack);
    }
    if (census_->notify_fd() >= 0) watch(census_->notify_fd());
    return true;
}

bool Session::start_command(std::string& error) {
    LaunchSettings launch;
    launch.command = opt_.command;
    launch.lib_path = opt_.lib_path;
    launch.socket_path = opt_.socket_path;
    launch.spool_path = spool_->path();
    launch.census = opt_.census;
    uint64_t t_fork = now_ns();
    pid_t pid = launcher_.start(launch, error);
    if (pid < 0) return false;
    spdlog::debug("started {} as pid {}, listening on {}", opt_.command[0], pid, opt_.socket_path);
    root_pid_ = pid;
    track(pid, t_fork);
    // A static (or set-id) command has no library to say so, and may be gone before its exec
    // event is read: its file is looked at now.
    root_image_ = file_in_path(opt_.command[0]);
    if (!root_image_.empty() &&
        (images_->inspect(pid, root_image_, wire::kUnknownId, wire::kUnknownId) &
         kImageWithoutLibrary))
        outside_.insert(pid);
    if (auto* sampler = dynamic_cast<CowSampler*>(census_.get())) sampler->start();
    result_.command_started = true;

    write_trace_start(t_fork);

    if (!launcher_.exec_succeeded(error)) {
        note(wire::NoteSeverity::kWarning, wire::NoteCode::kCommandNotStarted,
             "the command could not start: " + error);
        root_reaped_ = true;
        root_status_ = 127 << 8;
        return false;
    }
    return true;
}

void Session::start_attach() {
    uint64_t t = now_ns();
    root_pid_ = opt_.attach.front();
    if (auto* sampler = dynamic_cast<CowSampler*>(census_.get())) sampler->start();
    write_trace_start(t);
    // Each process as it stands now: the same record a rotated trace begins with.
    for (pid_t top : opt_.attach) {
        for (pid_t pid : process_and_descendants(top)) {
            if (tracked_.contains(pid)) continue;
            std::optional<ProcessFacts> facts = read_process_facts(pid);
            if (!facts) continue;  // gone meanwhile
            track(pid, t);
            if (poller_) poller_->follow(pid);
            std::vector<const char*> argv = c_strings(facts->argv);
            wire::ProcessCarried carried;
            carried.creator = facts->ppid;
            carried.start_t_ns = facts->start_monotonic_ns;
            carried.execfn = facts->execfn;
            carried.argv = wire::TextList::of_array(argv.data());
            trace_.write(carried, pid, t);
            // A child of an attached process that has not exec'd is a fork under way: its
            // episode starts now, its memory read now stands for the fork's.
            if (pid != top && tracked_.contains(facts->ppid) &&
                still_a_fork_copy(pid, facts->ppid)) {
                ++forks_seen_;
                fork_parent_[pid] = facts->ppid;
                ForkedChild child{pid, facts->ppid, facts->start_monotonic_ns, 0, 0, true};
                child.under_way_at_attach = true;
                census_->on_forked_child(child);
            }
        }
    }
    std::string events_from =
        poller_ ? "a look at /proc every sampling interval (the kernel's process events: " +
                      kernel_note_ + ")"
                : "the kernel's process events";
    note(wire::NoteSeverity::kInfo, wire::NoteCode::kAttached,
         "attached to " + std::to_string(tracked_.size()) +
             " running process(es): what they did before is not in this trace; their forks, "
             "execs and exits come from " +
             events_from + ", so fork call sites, vfork and failed execs are unknown");
    if (poller_) {
        std::string why = "forks, execs and exits are found by polling /proc every " +
                          std::to_string(opt_.interval_ns / 1000000) +
                          " ms: a child that forks and ends within an interval is missed, an exec "
                          "or exit is dated to the poll that found it (an exit's status is known "
                          "only when the poll finds a zombie), and a fork's memory is read up to "
                          "an interval late (what the child copied before then is attributed by "
                          "place)";
        note(wire::NoteSeverity::kWarning, wire::NoteCode::kEventsPolled,
             "the kernel's process events are not at hand (" + kernel_note_ + "): " + why);
        // Said even with --quiet: the trace is coarser than the user may expect.
        fprintf(stderr, "cowtrace: no kernel process events (%s): %s\n", kernel_note_.c_str(),
                why.c_str());
    }
    if (!opt_.quiet) {
        fprintf(stderr, "cowtrace: attached to %zu process%s; stop with Ctrl-C or SIGTERM\n",
                tracked_.size(), tracked_.size() == 1 ? "" : "es");
    }
}

void Session::poll_children(uint64_t now) {
    for (const PolledEvent& ev : poller_->poll(now)) {
        switch (ev.kind) {
            case PolledEvent::Kind::kFork:
                track(ev.pid, ev.t_ns);
                trace_.write(wire::KernelFork{ev.parent, ev.parent}, ev.pid, ev.t_ns);
                ++forks_seen_;
                fork_parent_[ev.pid] = ev.parent;
                if (ev.still_a_copy) {
                    ForkedChild child{ev.pid, ev.parent, ev.t_ns, 0, 0, true};
                    child.found_by_polling = true;
                    census_->on_forked_child(child);
                }
                break;
            case PolledEvent::Kind::kExec:
                census_->on_exec_attempt(ev.pid, ev.t_ns);
                kernel_exec(ev.pid, ev.pid, ev.t_ns);
                break;
            case PolledEvent::Kind::kExit: {
                wire::KernelExit exit{ev.status};
                exit.status_unknown = !ev.status_known;
                tracked_.erase(ev.pid);
                trace_.write(exit, ev.pid, ev.t_ns);
                process_gone(ev.pid, ev.t_ns);
                break;
            }
        }
    }
}

void Session::write_trace_start(uint64_t t_fork) {
    struct utsname uts {};
    uname(&uts);
    std::vector<const char*> command = c_strings(opt_.command);
    std::string census_mode = census_->mode_name();
    wire::TraceStart start;
    start.wall_t0_ns = realtime_ns() - (now_ns() - file_t0_ns_);
    start.collector_pid = self_pid_;
    start.root_pid = root_pid_;
    start.command = wire::TextList::of_array(command.data());
    start.page_size = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
    start.kernel_release = uts.release;
    start.host = uts.nodename;
    start.euid = static_cast<uint32_t>(geteuid());
    start.kernel_events = kernel_ok_;
    start.kernel_events_note = kernel_note_;
    start.census_mode = census_mode;
    start.interval_ns = opt_.interval_ns;
    start.root_fork_ns = t_fork;
    start.features = wire::kFeatureOutsideBaseline;
    if (attached_) start.features |= wire::kFeatureAttached;
    trace_.write(start, self_pid_, file_t0_ns_);
    // Each file says why its copies name no code; the terminal hears it once.
    if (auto* sampler = dynamic_cast<CowSampler*>(census_.get());
        sampler != nullptr && !sampler->attribution_unavailable().empty()) {
        std::string why =
            "copies are not attributed to code: " + sampler->attribution_unavailable();
        note(wire::NoteSeverity::kWarning, wire::NoteCode::kAttributionOff, why);
        if (!attribution_warned_ && !opt_.quiet) fprintf(stderr, "cowtrace: %s\n", why.c_str());
        attribution_warned_ = true;
    }
    // On disk at once: a collector killed before its first periodic flush still leaves a
    // trace that reads (the records the spool recovers then have a file to belong to).
    trace_.flush();
}

void Session::note(wire::NoteSeverity severity, wire::NoteCode code, const std::string& text) {
    wire::CollectorNote n;
    n.severity = severity;
    n.code = code;
    n.text = text;
    trace_.write(n, self_pid_, now_ns());
}

// One ready descriptor of the event loop. The timer re-arms itself only while the run goes on.
void Session::dispatch(int fd, bool rearm_timer) {
    CensusService::Batch batch(*census_);  // routine census work: one wake-up for all it reads
    if (fd == shims_.listen_fd()) {
        shims_.accept_all([this](int cfd) {
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLRDHUP;
            ev.data.fd = cfd;
            epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, cfd, &ev);
        });
    } else if (fd == signal_fd_) {
        handle_signals();
    } else if (kernel_ok_ && fd == kernel_.fd()) {
        handle_kernel_events();
    } else if (fd == timer_fd_) {
        uint64_t ticks;
        ssize_t ignored = read(timer_fd_, &ticks, sizeof ticks);
        (void)ignored;
        if (poller_) poll_children(now_ns());
        if (rearm_timer) {
            uint64_t delay = census_->on_timer(now_ns(), live_.sorted());
            if (poller_ && delay == 0) delay = opt_.interval_ns;
            arm_timer(delay);
        }
    } else if (fd == census_->notify_fd()) {
        census_->collect_results();
    } else {
        bool open = shims_.read_all(fd, [this](const ShimMessage& m) { handle_shim_message(m); });
        if (!open) shims_.drop(fd);
    }
}

void Session::arm_timer(uint64_t delay_ns) {
    itimerspec its{};
    if (delay_ns > 0) {
        its.it_value.tv_sec = static_cast<time_t>(delay_ns / 1000000000ull);
        its.it_value.tv_nsec = static_cast<long>(delay_ns % 1000000000ull);
    }
    timerfd_settime(timer_fd_, 0, &its, nullptr);
}

void Session::loop() {
    if (opt_.command.empty() && !attached_) {
        if (auto* sampler = dynamic_cast<CowSampler*>(census_.get())) sampler->start();
        write_trace_start(t0_ns_);
        if (!opt_.quiet) {
            fprintf(stderr,
                    "cowtrace: recording to %s; start programs with\n"
                    "  LD_PRELOAD=%s COWTRACE_SOCKET=%s <program>\n"
                    "cowtrace: stop with Ctrl-C or SIGTERM\n",
                    opt_.trace_path.c_str(), opt_.lib_path.c_str(), opt_.socket_path.c_str());
        }
    }
    uint64_t deadline = opt_.duration_ns ? t0_ns_ + opt_.duration_ns : 0;
    arm_timer(census_->on_timer(now_ns(), live_.sorted()));

    epoll_event events[64];
    for (;;) {
        bool command_done =
            !opt_.command.empty() && root_reaped_ && (opt_.exit_with_command || tree_empty_);
        bool attached_done = attached_ && live_.empty();
        if (command_done || attached_done || stop_requested_) break;
        if (deadline && now_ns() >= deadline) break;
        int timeout_ms = deadline ? static_cast<int>((deadline - now_ns()) / 1000000 + 1) : -1;
        // Wake at least every 200 ms to put buffered records on disk.
        int wait_ms = timeout_ms < 0 || timeout_ms > 200 ? 200 : timeout_ms;
        int n = epoll_wait(epoll_fd_, events, 64, wait_ms);
        if (n < 0 && errno != EINTR) break;
        uint64_t round_start = now_ns();
        round_records_ = 0;
        trace_.flush_if_older(round_start, 200'000'000);
        for (int i = 0; i < n; ++i) dispatch(events[i].data.fd, true);
        report_status(now_ns());
        update_metrics(now_ns());
        if (rotation_ && rotation_->due(now_ns(), file_t0_ns_, trace_.bytes_written()))
            rotate(now_ns());
        forget_gone(now_ns());
        if (n > 0) {
            uint64_t hold = coalescer_.hold_off_after(round_start, now_ns(), round_records_);
            if (hold > 0) {
                timespec ts{static_cast<time_t>(hold / 1000000000ull),
                            static_cast<long>(hold % 1000000000ull)};
                nanosleep(&ts, nullptr);
            }
        }
    }
    drain_after_tree_ended();
}

void Session::handle_signals() {
    signalfd_siginfo si{};
    while (read(signal_fd_, &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGCHLD) {
            reap_children();
            continue;
        }
        note(wire::NoteSeverity::kNotice, wire::NoteCode::kSignalReceived,
             std::string("collector received ") + strsignal(sig));
        if (opt_.command.empty()) {
            stop_requested_ = true;  // record mode: any of these ends the recording
        } else if (sig == SIGTERM || sig == SIGHUP) {
            // Sent to us alone (a terminal's SIGINT/SIGQUIT reach the whole group already).
            if (!root_reaped_) kill(root_pid_, sig);
        }
    }
}

void Session::reap_children() {
    for (;;) {
        siginfo_t si{};
        int rc = waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
        if (rc != 0) {
            if (errno == ECHILD) tree_empty_ = true;
            return;
        }
        if (si.si_pid == 0) return;
        int status = 0;
        if (si.si_code == CLD_EXITED) status = (si.si_status & 0xff) << 8;
        if (si.si_code == CLD_KILLED) status = si.si_status & 0x7f;
        if (si.si_code == CLD_DUMPED) status = (si.si_status & 0x7f) | 0x80;
        wire::SubreaperReaped reaped;
        reaped.status = status;
        trace_.write(reaped, si.si_pid, now_ns());
        process_gone(si.si_pid, now_ns());
        if (si.si_pid == root_pid_) {
            root_reaped_ = true;
            root_status_ = status;
        }
    }
}

void Session::handle_kernel_events() {
    // A process whose main thread exited with no thread left running ends once everything
    // queued has been read, not at once: when a thread other than the main one execs, the
    // kernel ends the old main thread first, and a collector that reads its events late finds
    // the process already gone (the new image ran and ended) — the exec event queued behind
    // says the process went on, and its own end comes later.
    std::vector<KernelEvent> ending;
    auto end_process = [this](const KernelEvent& ev) {
        leader_exits_.erase(ev.tgid);
        tracked_.erase(ev.tgid);
        trace_.write(wire::KernelExit{ev.exit_code}, ev.tgid, ev.t_ns);
        process_gone(ev.tgid, ev.t_ns);
    };
    auto pending_end = [&ending](pid_t tgid) {
        return std::find_if(ending.begin(), ending.end(),
                            [tgid](const KernelEvent& e) { return e.tgid == tgid; });
    };
    bool complete = kernel_.drain([&](const KernelEvent& ev) {
        switch (ev.kind) {
            case KernelEvent::Kind::kFork:
                if (ev.pid != ev.tgid) return;  // a thread
                if (auto reused = pending_end(ev.tgid); reused != ending.end()) {
                    end_process(*reused);  // its pid is taken again: it really ended
                    ending.erase(reused);
                }
                if (!tracked_.contains(ev.parent_tgid) && ev.parent_tgid != self_pid_) return;
                if (ev.parent_tgid == self_pid_ && ev.tgid != root_pid_) return;
                track(ev.tgid, ev.t_ns);
                trace_.write(wire::KernelFork{ev.parent_tgid, ev.parent_pid}, ev.tgid, ev.t_ns);
                if (observed_from_outside(ev.parent_tgid)) {
                    // No library in it to say so: the kernel's event starts the episode, and
                    // the child runs the same image.
                    if (!attached_) outside_.insert(ev.tgid);
                    ++forks_seen_;
                    fork_parent_[ev.tgid] = ev.parent_tgid;
                    census_->on_forked_child(
                        ForkedChild{ev.tgid, ev.parent_tgid, ev.t_ns, 0, 0, true});
                }
                break;
            case KernelEvent::Kind::kExec:
                if (!tracked_.contains(ev.tgid)) return;
                leader_exits_.erase(ev.tgid);  // that was the old main thread of a thread's exec
                if (auto went_on = pending_end(ev.tgid); went_on != ending.end()) {
                    ending.erase(went_on);
                }
                census_->on_exec_attempt(ev.tgid, ev.t_ns);
                kernel_exec(ev.tgid, ev.pid, ev.t_ns);
                break;
            case KernelEvent::Kind::kExit:
                if (!tracked_.contains(ev.tgid)) return;
                // The main thread's exit ends the process only if no other thread goes on: an
                // exec from another thread kills the old main thread first, and a main thread
                // may end before the others. Then the last thread's exit ends it.
                if (ev.pid == ev.tgid) {
                    leader_exits_.insert(ev.tgid);
                } else if (!leader_exits_.count(ev.tgid)) {
                    return;  // a thread
                }
                if (thread_group_running(ev.tgid)) return;
                if (auto earlier = pending_end(ev.tgid); earlier != ending.end()) {
                    *earlier = ev;  // a later thread's end: the last one is the process's
                } else {
                    ending.push_back(ev);
                }
                break;
        }
    });
    for (const KernelEvent& ev : ending) end_process(ev);
    if (!complete) {
        spdlog::warn("the kernel dropped process events; the trace notes it");
        note(wire::NoteSeverity::kWarning, wire::NoteCode::kKernelEventsLost,
             "the kernel dropped process events (ENOBUFS): the kernel cross-check is incomplete "
             "for this interval");
    }
}

// An exec the kernel reports: whether the new image is one no library enters (the library
// announced the exec and its target was inspected; else, with no library to announce it, the
// new image is looked at now), and, where no library will say it, its command line from /proc.
void Session::kernel_exec(pid_t tgid, pid_t thread, uint64_t t_ns) {
    kernel_exec_at_[tgid] = t_ns;
    bool was_outside = observed_from_outside(tgid);
    auto announced = exec_outside_.find(tgid);
    if (announced != exec_outside_.end()) {
        if (announced->second) {
            outside_.insert(tgid);
        } else {
            outside_.erase(tgid);
        }
        exec_outside_.erase(announced);
    } else if (outside_.count(tgid)) {
        // No library announced it. A dynamic image loads the library (the environment names
        // it); a process already gone keeps what was known.
        std::string image = read_image_path(tgid);
        if (!image.empty() && !(images_->inspect(tgid, image, wire::kUnknownId, wire::kUnknownId) &
                                kImageWithoutLibrary))
            outside_.erase(tgid);
    }
    if (!was_outside && !observed_from_outside(tgid)) {
        trace_.write(wire::KernelExec{thread}, tgid, t_ns);
        return;
    }
    // Read at once: the new image may exec again or end. The command's own exec, if it is
    // already gone: as it was started.
    std::vector<std::string> words = read_command_line(tgid);
    std::string image = read_image_path(tgid);
    if (words.empty() && tgid == root_pid_ && !attached_) {
        words = opt_.command;
        image = root_image_;
    }
    std::vector<const char*> argv = c_strings(words);
    wire::KernelExec exec;
    exec.thread = thread;
    exec.execfn = image;
    exec.argv = wire::TextList::of_array(argv.data());
    trace_.write(exec, tgid, t_ns);
}

void Session::handle_shim_message(const ShimMessage& m) {
    ++round_records_;
    std::span<uint8_t> bytes = m.bytes;
    if (bytes.size() < sizeof(wire::RecordHeader)) {
        ++rejected_records_;
        return;
    }
    wire::RecordHeader h;
    memcpy(&h, bytes.data(), sizeof h);
    if (h.size != bytes.size() || h.size > wire::kMaxShimRecordSize) {
        ++rejected_records_;
        spdlog::debug("rejected a malformed record from pid {} ({} bytes)", m.sender_pid,
                      bytes.size());
        return;
    }
    if (h.pid != m.sender_pid) {
        // The kernel's word wins: a record speaks for the process that sent it.
        h.pid = m.sender_pid;
        h.flags |= wire::kCredsMismatch;
        memcpy(bytes.data(), &h, sizeof h);
    }
    ++shim_records_;
    trace_.append(bytes.data(), bytes.size());
    RawRecord rec;
    rec.header = h;
    rec.payload = std::span<const uint8_t>(bytes.data() + sizeof h, bytes.size() - sizeof h);
    handle_shim_record(rec, m.connection_id);
}

// What the collector itself does with a library record: follow the tree, note call sites for
// the symbolizer, inspect exec targets, hand census requests on.
void Session::handle_shim_record(const RawRecord& rec, uint64_t connection_id) {
    const wire::RecordHeader& h = rec.header;
    switch (static_cast<wire::RecordType>(h.type)) {
        case wire::RecordType::kHello:
            track(h.pid, h.t_ns);
            symbolizer_.image_started(h.pid, h.t_ns);
            break;
        case wire::RecordType::kSpawnBegin: {
            wire::SpawnBegin begin;
            decode(rec, begin);
            symbolizer_.note(h.pid, frames_of(begin.call_site, frames_), h.t_ns);
            break;
        }
        case wire::RecordType::kChildStart: {
            track(h.pid, h.t_ns);
            wire::ChildStart start;
            decode(rec, start);
            if (start.how != wire::CreateHow::kVfork) {
                ++forks_seen_;
                if (start.parent > 0) {
                    symbolizer_.image_copied(h.pid, start.parent, h.t_ns);
                } else {
                    symbolizer_.image_started(h.pid, h.t_ns);
                }
            }
            if (start.parent > 0) fork_parent_[h.pid] = start.parent;
            if (start.parent > 0 && wire::copies_memory(start.how)) {
                census_->on_forked_child(ForkedChild{h.pid, start.parent, h.t_ns,
                                                     start.stack_pointer, start.thread_pointer});
            }
            break;
        }
        case wire::RecordType::kCreated: {
            wire::Created created;
            decode(rec, created);
            if (created.child > 0) track(created.child, h.t_ns);
            symbolizer_.note(h.pid, frames_of(created.call_site, frames_), h.t_ns);
            if (!created.spawn_image.empty()) {
                uint32_t flags =
                    inspect_image(h.pid, h.t_ns, std::string(created.spawn_image.view()),
                                  wire::kUnknownId, wire::kUnknownId);
                if (created.child > 0 && (flags & kImageWithoutLibrary))
                    outside_.insert(created.child);
            }
            break;
        }
        case wire::RecordType::kExecAttempt: {
            wire::ExecAttempt attempt;
            decode(rec, attempt);
            if (!(h.flags & wire::kFromVforkChild)) census_->on_exec_attempt(h.pid, h.t_ns);
            std::string image(attempt.image.view());
            if (image.empty() && attempt.path.view().starts_with("/")) image = attempt.path.view();
            if (!image.empty()) {
                uint32_t flags = inspect_image(h.pid, h.t_ns, image, attempt.euid, attempt.egid);
                // A vfork child's too (its pid is its own): a static image it execs forks
                // behind every library's back. A vfork child does not wait for anything before
                // its exec: the kernel's exec event may have come first.
                bool outside = (flags & kImageWithoutLibrary) != 0;
                auto done = kernel_exec_at_.find(h.pid);
                if (done != kernel_exec_at_.end() && done->second >= h.t_ns) {
                    if (outside) outside_.insert(h.pid);
                } else {
                    exec_outside_[h.pid] = outside;
                }
            }
            break;
        }
        case wire::RecordType::kExit:
            if (!(h.flags & wire::kFromVforkChild)) live_.erase(h.pid);
            break;
        case wire::RecordType::kDropped: {
            wire::Dropped dropped;
            decode(rec, dropped);
            dropped_records_ += dropped.count;
            break;
        }
        case wire::RecordType::kExecFailed:
            if (!(h.flags & wire::kFromVforkChild)) census_->on_exec_failed(h.pid);
            exec_outside_.erase(h.pid);
            break;
        case wire::RecordType::kWaitReaped: {
            wire::WaitReaped reaped;
            decode(rec, reaped);
            if (reaped.child > 0) process_gone(reaped.child, h.t_ns);
            break;
        }
        case wire::RecordType::kCensusRequest: {
            wire::CensusRequest request;
            decode(rec, request);
            CensusRequest req;
            req.connection_id = connection_id;
            req.child = h.pid;
            auto parent = fork_parent_.find(h.pid);
            req.parent = parent != fork_parent_.end() ? parent->second : 0;
            req.kind = request.kind;
            req.reason = request.reason;
            req.stack_pointer = request.stack_pointer;
            req.thread_pointer = request.thread_pointer;
            req.t_ns = h.t_ns;
            census_->on_request(req);
            break;
        }
        default:
            break;
    }
}

// The library names the file an exec or spawn runs; what that file means for tracing is
// found out here (image_inspector.hpp) and written beside the request.
uint32_t Session::inspect_image(pid_t pid, uint64_t request_t_ns, const std::string& path,
                                uint32_t euid, uint32_t egid) {
    wire::ImageFacts facts;
    facts.request_t_ns = request_t_ns;
    facts.image_flags = images_->inspect(pid, path, euid, egid);
    facts.path = path;
    trace_.write(facts, pid, request_t_ns);
    return facts.image_flags;
}

void Session::drain_after_tree_ended() {
    // Every process has ended (or we were told to stop): what they sent is still queued.
    uint64_t deadline = now_ns() + kDrainDeadlineNs;
    bool waiting_for_all = !opt_.command.empty() && tree_empty_;
    epoll_event events[64];
    for (;;) {
        int timeout_ms = waiting_for_all ? 50 : 0;
        int n = epoll_wait(epoll_fd_, events, 64, timeout_ms);
        if (n <= 0) {
            if (!waiting_for_all || shims_.open_connections() == 0 || now_ns() > deadline) break;
            continue;
        }
        for (int i = 0; i < n; ++i) dispatch(events[i].data.fd, false);
        if (now_ns() > deadline) break;
    }
}

void Session::track(pid_t pid, uint64_t t_ns) {
    bool first = tracked_.insert(pid);
    if (first) ++processes_seen_;
    bool already_ended = recent_exits_.ended_after(pid, t_ns);
    if (!already_ended) live_.insert(pid);
    if (opt_.observer) {
        if (first || !already_ended) opt_.observer->on_process_started(pid);
        if (already_ended) opt_.observer->on_process_ended(pid);
    }
    if (!metrics_) return;
    if (first || !already_ended) metrics_->on_process_started(pid);
    if (already_ended) metrics_->on_process_ended(pid);
}

void Session::forget_if_ended(const uint8_t* bytes, size_t size) {
    RawRecord rec;
    if (size < sizeof rec.header) return;
    memcpy(&rec.header, bytes, sizeof rec.header);
    rec.payload = std::span<const uint8_t>(bytes + sizeof rec.header, size - sizeof rec.header);
    pid_t subject = 0;
    switch (static_cast<wire::RecordType>(rec.header.type)) {
        case wire::RecordType::kHello:
        case wire::RecordType::kChildStart:
        case wire::RecordType::kKernelFork:
            subject = rec.header.pid;
            break;
        case wire::RecordType::kCreated: {
            wire::Created created;
            if (decode(rec, created)) subject = created.child;
            break;
        }
        default:
            return;
    }
    if (subject <= 0 || !recent_exits_.ended_after(subject, rec.header.t_ns)) return;
    if (metrics_) metrics_->on_process_ended(subject);
    if (opt_.observer) opt_.observer->on_process_ended(subject);
    if (rotation_) rotation_->process_gone(subject);
}

// Reads every connection until a whole pass finds nothing: a process whose records travel on
// two connections (a forked child on its parent's, then on its own) has everything it sent
// before a later record in the same file as that record, and no sequence gap at a rotation.
void Session::drain_connections() {
    for (int pass = 0; pass < 100; ++pass) {
        size_t read = 0;
        dispatch(shims_.listen_fd(), false);  // a child's own connection may wait to be accepted
        CensusService::Batch batch(*census_);
        for (int fd : shims_.fds()) {
            bool open = shims_.read_all(fd, [&](const ShimMessage& m) {
                ++read;
                handle_shim_message(m);
            });
            if (!open) shims_.drop(fd);
        }
        if (read == 0) return;
    }
}

// The ending file gets what closes it, the new one what a reader needs of what goes on
// (trace_rotation.hpp).
void Session::rotate(uint64_t now) {
    drain_connections();
    census_->collect_results();  // what the census measured so far belongs to this file
    rotation_->close_episodes(trace_, now);
    write_symbols(now);
    std::vector<int32_t> alive = rotation_->alive();
    wire::TraceEnd end;
    end.library_records = shim_records_ - file_records_base_;
    end.rejected_records = rejected_records_ + shims_.refused_peers();
    end.kernel_events_lost = kernel_.lost();
    end.still_running = wire::I32List(alive.data(), alive.size());
    end.longest_interval_ns = census_->longest_interval_ns();
    trace_.write(end, self_pid_, now);
    std::string error;
    if (!trace_.close(error)) spdlog::warn("{}", error);
    if (!rotation_->shift_files(error)) spdlog::warn("trace rotation: {}", error);
    if (!trace_.open(opt_.trace_path, error)) {
        spdlog::error("trace rotation: {}", error);
        stop_requested_ = true;
        return;
    }
    file_t0_ns_ = now;
    file_records_base_ = shim_records_;
    write_trace_start(now);
    rotation_->carry_over(trace_, now);
    spdlog::debug("rotated the trace: {} processes and {} episodes carried over",
                  rotation_->processes_known(), rotation_->episodes_open());
}

void Session::forget_gone(uint64_t now) {
    if (now < next_sweep_ns_) return;
    next_sweep_ns_ = now + kSweepIntervalNs;
    for (pid_t pid : gone_before_) {
        if (!live_.contains(pid)) tracked_.erase(pid);
    }
    gone_before_.swap(gone_recently_);
    gone_recently_.clear();
}

void Session::write_symbols(uint64_t t_ns) {
    for (const CallSiteSymbolizer::Resolved& r : symbolizer_.resolve()) {
        if (r.frames.empty()) continue;
        std::vector<const char*> inlined_into;
        for (size_t i = 1; i < r.frames.size(); ++i) inlined_into.push_back(r.frames[i].c_str());
        inlined_into.push_back(nullptr);
        wire::Symbol symbol;
        symbol.pid = r.pid;
        symbol.address = r.address;
        symbol.name = r.frames.front();
        symbol.inlined_into = wire::TextList::of_array(inlined_into.data());
        trace_.write(symbol, self_pid_, t_ns);
    }
}

void Session::update_metrics(uint64_t now) {
    if (!metrics_) return;
    CollectorCounts counts;
    counts.library_records = shim_records_;
    counts.rejected_records = rejected_records_ + shims_.refused_peers();
    counts.dropped_records = dropped_records_;
    counts.kernel_events_lost = kernel_.lost();
    counts.trace_bytes_lost = trace_.bytes_lost();
    counts.longest_interval_ns = census_->longest_interval_ns();
    metrics_->on_counts(counts);
    metrics_->tick(now);
}

void Session::report_status(uint64_t now) {
    if (!opt_.on_status || now < next_status_ns_) return;
    next_status_ns_ = now + opt_.status_interval_ns;
    CollectionStatus status;
    status.processes = processes_seen_;
    status.forks = forks_seen_;
    status.records = shim_records_;
    status.lost = rejected_records_ + shims_.refused_peers() + dropped_records_ + kernel_.lost();
    opt_.on_status(status);
}

void Session::process_gone(pid_t pid, uint64_t t_ns) {
    recent_exits_.ended(pid, t_ns);
    outside_.erase(pid);
    exec_outside_.erase(pid);
    kernel_exec_at_.erase(pid);
    leader_exits_.erase(pid);
    fork_parent_.erase(pid);  // a later holder of the pid says its own with its ChildStart
    symbolizer_.process_gone(pid);
    live_.erase(pid);
    census_->on_process_gone(pid, t_ns);
    if (metrics_) metrics_->on_process_ended(pid);
    if (opt_.observer) opt_.observer->on_process_ended(pid);
    if (rotation_) rotation_->process_gone(pid);
    gone_recently_.push_back(pid);
}

void Session::finish() {
    uint64_t t_end = now_ns();
    census_->finish(t_end);
    write_symbols(t_end);
    std::vector<pid_t> leftovers;
    if (!opt_.command.empty() && !tree_empty_) {
        for (pid_t p : tracked_.sorted()) {
            if (p != root_pid_ && kill(p, 0) == 0) leftovers.push_back(p);
        }
    }
    if (attached_) leftovers = live_.sorted();  // we stopped watching them
    if (spool_) {
        uint64_t late = spool_->fold_into(trace_, self_pid_, now_ns());
        if (late > 0)
            spdlog::warn("{} records were spooled while the collector did not keep up", late);
    }
    trace_.flush();
    if (trace_.bytes_lost() > 0) {
        // Records the file could not take (disk full): said in the trace itself, if it has
        // room again; otherwise the missing end record says the trace is cut.
        note(wire::NoteSeverity::kWarning, wire::NoteCode::kTraceBytesLost,
             std::to_string(trace_.bytes_lost()) +
                 " bytes of records could not be written to the trace (" + trace_.write_error() +
                 "): what they said is missing");
    }
    wire::TraceEnd end;
    end.root_status = root_reaped_ ? root_status_ : -1;
    end.library_records = shim_records_ - file_records_base_;
    end.rejected_records = rejected_records_ + shims_.refused_peers();
    end.kernel_events_lost = kernel_.lost();
    end.still_running = wire::I32List(leftovers.data(), leftovers.size());
    end.longest_interval_ns = census_->longest_interval_ns();
    trace_.write(end, self_pid_, t_end);
    std::string error;
    if (!trace_.close(error)) result_.trace_warning = error;
    if (metrics_) {
        update_metrics(t_end);
        std::string metrics_error;
        if (!metrics_->finish(metrics_error)) spdlog::warn("{}", metrics_error);
    }
    spdlog::debug("{} records from the library, {} rejected, {} kernel event losses", shim_records_,
                  rejected_records_ + shims_.refused_peers(), kernel_.lost());

    if (!opt_.command.empty() && root_reaped_) {
        if (WIFEXITED(root_status_)) result_.exit_code = WEXITSTATUS(root_status_);
        if (WIFSIGNALED(root_status_)) result_.exit_code = 128 + WTERMSIG(root_status_);
    }
}

}  // namespace cowtrace::collector

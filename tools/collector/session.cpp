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

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "census_service.hpp"
#include "core/pagemap.hpp"
#include "core/thread_group.hpp"
#include "core/trace_reader.hpp"
#include "cow_sampler.hpp"
#include "wire/record.hpp"
#include "wire/wire_reader.hpp"

extern char** environ;

namespace cowtrace::collector {

namespace {

constexpr uint64_t kDrainDeadlineNs = 3'000'000'000ull;
constexpr uint64_t kStatusIntervalNs = 250'000'000ull;

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

const uint8_t* spool_bytes(const RawRecord& rec) {
    return rec.payload.data() - sizeof(wire::RecordHeader);
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

void put_strings(wire::WireWriter& w, const std::vector<std::string>& v) {
    std::vector<const char*> ptrs;
    for (const auto& s : v) ptrs.push_back(s.c_str());
    ptrs.push_back(nullptr);
    w.strlist(ptrs.data(), 64 * 1024);
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

uint64_t Session::now_ns() const { return monotonic_ns(); }

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
    if (!opt_.command.empty() && !start_command(error)) {
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
    if (opt_.socket_path.empty()) {
        private_dir_ = make_private_dir(error);
        if (private_dir_.empty()) return false;
        opt_.socket_path = private_dir_ + "/sock";
    }
    // Listening first: a collector that cannot start must not truncate an earlier trace.
    if (!shims_.listen(opt_.socket_path, error)) return false;
    if (!trace_.open(opt_.trace_path, error)) return false;
    if (!opt_.command.empty() && !create_spool(error)) return false;

    if (!opt_.command.empty() && prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        error = std::string("cannot become a subreaper: ") + strerror(errno);
        return false;
    }
    if (opt_.kernel_events) {
        kernel_ok_ = kernel_.open(kernel_note_);
        if (!kernel_ok_) spdlog::info("kernel cross-check unavailable: {}", kernel_note_);
    } else {
        kernel_note_ = "disabled by --no-kernel-events";
    }

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
        struct {
            uint32_t magic;
            uint32_t status;
        } reply{0x41574f43u, status};
        shims_.reply(id, &reply, sizeof reply);
    };
    if (opt_.census) {
        bool pfns = pagemap::pfns_visible();
        if (opt_.census_mode == "exact" && !pfns) {
            error = "--mode exact needs page frame numbers, which only root (CAP_SYS_ADMIN) can "
                    "read; run as root or use --mode unprivileged";
            return false;
        }
        CensusMode mode = (opt_.census_mode == "unprivileged" || !pfns) ? CensusMode::kUnprivileged
                                                                         : CensusMode::kExact;
        census_ = std::make_unique<CowSampler>(trace_, ack, mode, opt_.interval_ns, opt_.duty_cycle);
        spdlog::debug("copy-on-write census in {} mode, interval {} ms", census_->mode_name(),
                      opt_.interval_ns / 1000000);
    } else {
        census_ = std::make_unique<CensusService>(trace_, ack);
    }
    if (census_->notify_fd() >= 0) watch(census_->notify_fd());
    return true;
}

bool Session::start_command(std::string& error) {
    // Everything the child needs is built before fork: after it, only exec.
    std::vector<std::string> env_strings;
    std::string preload = opt_.lib_path;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view kv(*e);
        if (kv.starts_with("LD_PRELOAD=")) {
            std::string_view old = kv.substr(11);
            if (!old.empty()) preload += ":" + std::string(old);
            continue;
        }
        if (kv.starts_with("COWTRACE_SOCKET=") || kv.starts_with("COWTRACE_CENSUS=") ||
            kv.starts_with("COWTRACE_SPOOL=")) {
            continue;
        }
        env_strings.emplace_back(kv);
    }
    env_strings.push_back("LD_PRELOAD=" + preload);
    env_strings.push_back("COWTRACE_SOCKET=" + opt_.socket_path);
    // Records the collector cannot take (it stalled, or died) land next to the trace; finish()
    // folds them in, and `cowtrace report` finds them if we never got there.
    env_strings.push_back("COWTRACE_SPOOL=" + spool_path());
    if (!opt_.census) env_strings.push_back("COWTRACE_CENSUS=0");
    std::vector<char*> envp, argv;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    for (auto& s : opt_.command) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);

    int exec_pipe[2];
    if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
        error = std::string("pipe: ") + strerror(errno);
        return false;
    }
    sigset_t empty;
    sigemptyset(&empty);
    uint64_t t_fork = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        error = std::string("fork: ") + strerror(errno);
        return false;
    }
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &empty, nullptr);
        execvpe(argv[0], argv.data(), envp.data());
        int err = errno;
        ssize_t ignored = write(exec_pipe[1], &err, sizeof err);
        (void)ignored;
        _exit(127);
    }
    close(exec_pipe[1]);
    spdlog::debug("started {} as pid {}, listening on {}", opt_.command[0], pid, opt_.socket_path);
    root_pid_ = pid;
    track(pid);
    if (auto* sampler = dynamic_cast<CowSampler*>(census_.get())) sampler->start();
    result_.command_started = true;

    write_trace_start(t_fork);

    int err = 0;
    ssize_t n;
    do {
        n = read(exec_pipe[0], &err, sizeof err);
    } while (n < 0 && errno == EINTR);
    close(exec_pipe[0]);
    if (n == sizeof err) {
        error = "cannot run '" + opt_.command[0] + "': " + strerror(err);
        trace_.write(wire::RecordType::kCollectorNote, self_pid_, now_ns(),
                     [&](wire::WireWriter& w) {
                         w.u8(2);
                         w.u16(7);
                         w.cstr(("the command could not start: " + error).c_str());
                     });
        waitpid(pid, nullptr, 0);
        root_reaped_ = true;
        root_status_ = 127 << 8;
        return false;
    }
    return true;
}

void Session::write_trace_start(uint64_t t_fork) {
    struct utsname uts{};
    uname(&uts);
    trace_.write(wire::RecordType::kTraceStart, self_pid_, t0_ns_, [&](wire::WireWriter& w) {
        w.u64(realtime_ns() - (now_ns() - t0_ns_));
        w.i32(self_pid_);
        w.i32(root_pid_);  // 0 in record mode
        put_strings(w, opt_.command);
        w.u32(static_cast<uint32_t>(sysconf(_SC_PAGESIZE)));
        w.cstr(uts.release);
        w.cstr(uts.nodename);
        w.u32(static_cast<uint32_t>(geteuid()));
        w.u8(kernel_ok_ ? 1 : 0);
        w.cstr(kernel_note_.c_str());
        w.cstr(census_->mode_name().c_str());
        w.u64(opt_.interval_ns);
        w.u64(t_fork);
    });
}

// One ready descriptor of the event loop. The timer re-arms itself only while the run goes on.
void Session::dispatch(int fd, bool rearm_timer) {
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
        if (rearm_timer) {
            arm_timer(census_->on_timer(now_ns(), std::vector<pid_t>(live_.begin(), live_.end())));
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
    if (opt_.command.empty()) {
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
    arm_timer(census_->on_timer(now_ns(), std::vector<pid_t>(live_.begin(), live_.end())));

    epoll_event events[64];
    for (;;) {
        bool command_done = !opt_.command.empty() && root_reaped_ &&
                            (opt_.exit_with_command || tree_empty_);
        if (command_done || stop_requested_) break;
        if (deadline && now_ns() >= deadline) break;
        int timeout_ms = deadline ? static_cast<int>((deadline - now_ns()) / 1000000 + 1) : -1;
        // Wake at least every 200 ms to put buffered records on disk.
        int wait_ms = timeout_ms < 0 || timeout_ms > 200 ? 200 : timeout_ms;
        int n = epoll_wait(epoll_fd_, events, 64, wait_ms);
        if (n < 0 && errno != EINTR) break;
        trace_.flush_if_older(now_ns(), 200'000'000);
        for (int i = 0; i < n; ++i) dispatch(events[i].data.fd, true);
        report_status(now_ns());
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
        trace_.write(wire::RecordType::kCollectorNote, self_pid_, now_ns(), [&](wire::WireWriter& w) {
            w.u8(1);
            w.u16(1);
            std::string text = std::string("collector received ") + strsignal(sig);
            w.cstr(text.c_str());
        });
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
        trace_.write(wire::RecordType::kSubreaperReaped, si.si_pid, now_ns(),
                     [&](wire::WireWriter& w) { w.i32(status); });
        process_gone(si.si_pid, now_ns());
        if (si.si_pid == root_pid_) {
            root_reaped_ = true;
            root_status_ = status;
        }
    }
}

void Session::handle_kernel_events() {
    bool complete = kernel_.drain([this](const KernelEvent& ev) {
        switch (ev.kind) {
            case KernelEvent::Kind::kFork:
                if (ev.pid != ev.tgid) return;  // a thread
                if (!tracked_.count(ev.parent_tgid) && ev.parent_tgid != self_pid_) return;
                if (ev.parent_tgid == self_pid_ && ev.tgid != root_pid_) return;
                track(ev.tgid);
                trace_.write(wire::RecordType::kKernelFork, ev.tgid, ev.t_ns,
                             [&](wire::WireWriter& w) {
                                 w.i32(ev.parent_tgid);
                                 w.i32(ev.parent_pid);
                             });
                break;
            case KernelEvent::Kind::kExec:
                if (!tracked_.count(ev.tgid)) return;
                leader_exits_.erase(ev.tgid);  // that was the old main thread of a thread's exec
                trace_.write(wire::RecordType::kKernelExec, ev.tgid, ev.t_ns,
                             [&](wire::WireWriter& w) { w.i32(ev.pid); });
                break;
            case KernelEvent::Kind::kExit:
                if (!tracked_.count(ev.tgid)) return;
                // The main thread's exit ends the process only if no other thread goes on: an
                // exec from another thread kills the old main thread first, and a main thread
                // may end before the others. Then the last thread's exit ends it.
                if (ev.pid == ev.tgid) {
                    leader_exits_.insert(ev.tgid);
                } else if (!leader_exits_.count(ev.tgid)) {
                    return;  // a thread
                }
                if (thread_group_running(ev.tgid)) return;
                leader_exits_.erase(ev.tgid);
                tracked_.erase(ev.tgid);
                trace_.write(wire::RecordType::kKernelExit, ev.tgid, ev.t_ns,
                             [&](wire::WireWriter& w) { w.i32(ev.exit_code); });
                process_gone(ev.tgid, ev.t_ns);
                break;
        }
    });
    if (!complete) {
        spdlog::warn("the kernel dropped process events; the trace notes it");
        trace_.write(wire::RecordType::kCollectorNote, self_pid_, now_ns(), [&](wire::WireWriter& w) {
            w.u8(2);
            w.u16(2);
            w.cstr("the kernel dropped process events (ENOBUFS): the kernel cross-check is "
                   "incomplete for this interval");
        });
    }
}

void Session::handle_shim_message(const ShimMessage& m) {
    std::vector<uint8_t>& bytes = *m.bytes;
    if (bytes.size() < sizeof(wire::RecordHeader)) {
        ++rejected_records_;
        return;
    }
    wire::RecordHeader h;
    memcpy(&h, bytes.data(), sizeof h);
    if (h.size != bytes.size() || h.size > wire::kMaxShimRecordSize) {
        ++rejected_records_;
        spdlog::debug("rejected a malformed record from pid {} ({} bytes)", m.sender_pid, bytes.size());
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

    auto type = static_cast<wire::RecordType>(h.type);
    wire::WireReader r(bytes.data() + sizeof h, bytes.size() - sizeof h);
    switch (type) {
        case wire::RecordType::kHello:
            track(h.pid);
            symbolizer_.forget_mappings(h.pid);  // a new image
            break;
        case wire::RecordType::kSpawnBegin: {
            r.u8();
            r.u32();
            std::vector<uint64_t> frames;
            r.u64list([&](uint64_t ip) { frames.push_back(ip); });
            symbolizer_.note(h.pid, frames);
            break;
        }
        case wire::RecordType::kChildStart: {
            track(h.pid);
            if (static_cast<wire::CreateHow>(r.u8()) != wire::CreateHow::kVfork) ++forks_seen_;
            pid_t parent = r.i32();
            if (parent > 0) fork_parent_[h.pid] = parent;
            break;
        }
        case wire::RecordType::kCreated: {
            r.u8();
            pid_t child = r.i32();
            if (child > 0) {
                track(child);
            }
            r.i32();
            r.u64();
            std::vector<uint64_t> frames;
            r.u64list([&](uint64_t ip) { frames.push_back(ip); });
            symbolizer_.note(h.pid, frames);
            break;
        }
        case wire::RecordType::kExit:
            if (!(h.flags & wire::kFromVforkChild)) live_.erase(h.pid);
            break;
        case wire::RecordType::kDropped:
            dropped_records_ += r.u64();
            break;
        case wire::RecordType::kExecFailed:
            if (!(h.flags & wire::kFromVforkChild)) census_->on_exec_failed(h.pid);
            break;
        case wire::RecordType::kWaitReaped: {
            r.u8();
            pid_t child = r.i32();
            if (child > 0) process_gone(child, h.t_ns);
            break;
        }
        case wire::RecordType::kCensusRequest: {
            CensusRequest req;
            req.connection_id = m.connection_id;
            req.child = h.pid;
            auto parent = fork_parent_.find(h.pid);
            req.parent = parent != fork_parent_.end() ? parent->second : 0;
            req.kind = r.u8();
            req.reason = r.u8();
            req.stack_pointer = r.u64();
            req.thread_pointer = r.u64();
            req.t_ns = h.t_ns;
            census_->on_request(req);
            break;
        }
        default:
            break;
    }
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

std::string Session::spool_path() const {
    std::error_code ec;
    return std::filesystem::absolute(opt_.trace_path + ".spool", ec).string();
}

// The spool exists, ours and mode 0600, before the command starts: a process of the command
// that switched to another uid cannot write to it, and nobody else can plant records in it.
bool Session::create_spool(std::string& error) {
    std::string path = spool_path();
    for (int attempt = 0; attempt < 2; ++attempt) {
        int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            uint8_t header[wire::kFileHeaderSize];
            wire::encode_file_header(header);
            bool ok = write(fd, header, sizeof header) == static_cast<ssize_t>(sizeof header);
            close(fd);
            if (ok) return true;
            error = "cannot write the spool file " + path;
            unlink(path.c_str());
            return false;
        }
        struct stat st{};
        if (errno != EEXIST || lstat(path.c_str(), &st) != 0) break;
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
            error = path + " already exists and is not a file of ours (owner uid " +
                    std::to_string(st.st_uid) + "): remove it or choose another trace path";
            return false;
        }
        unlink(path.c_str());  // left by an earlier run that wrote the same trace
    }
    error = "cannot create the spool file " + path + ": " + strerror(errno);
    return false;
}

// Records the library spooled while we were not keeping up belong in the trace.
void Session::fold_in_spool() {
    std::string path = spool_path();
    struct stat st{};
    if (lstat(path.c_str(), &st) != 0) return;
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        trace_.write(wire::RecordType::kCollectorNote, self_pid_, now_ns(), [&](wire::WireWriter& w) {
            w.u8(2);
            w.u16(5);
            std::string text = path + " was replaced by a file of uid " +
                               std::to_string(st.st_uid) + ": its records were not used";
            w.cstr(text.c_str());
        });
        return;
    }
    TraceReader spool;
    if (!spool.open(path)) {
        unlink(path.c_str());  // not even a header: the library never wrote to it
        return;
    }
    RawRecord rec;
    uint64_t n = 0;
    while (spool.next(rec)) {
        trace_.append(spool_bytes(rec), rec.header.size);
        ++n;
    }
    unlink(path.c_str());
    if (n == 0) return;
    trace_.write(wire::RecordType::kCollectorNote, self_pid_, now_ns(), [&](wire::WireWriter& w) {
        w.u8(2);
        w.u16(3);
        std::string text = std::to_string(n) +
                           " records reached the collector late (it did not keep up) and were "
                           "taken from the spool file";
        w.cstr(text.c_str());
    });
    spdlog::warn("{} records were spooled while the collector did not keep up", n);
}

void Session::track(pid_t pid) {
    if (tracked_.insert(pid).second) ++processes_seen_;
    live_.insert(pid);
}

void Session::report_status(uint64_t now) {
    if (!opt_.on_status || now < next_status_ns_) return;
    next_status_ns_ = now + kStatusIntervalNs;
    CollectionStatus status;
    status.processes = processes_seen_;
    status.forks = forks_seen_;
    status.records = shim_records_;
    status.lost = rejected_records_ + shims_.refused_peers() + dropped_records_ + kernel_.lost();
    opt_.on_status(status);
}

void Session::process_gone(pid_t pid, uint64_t t_ns) {
    leader_exits_.erase(pid);
    fork_parent_.erase(pid);  // a later holder of the pid says its own with its ChildStart
    live_.erase(pid);
    census_->on_process_gone(pid, t_ns);
}

void Session::finish() {
    uint64_t t_end = now_ns();
    census_->finish(t_end);
    for (const auto& [key, name] : symbolizer_.resolve()) {
        trace_.write(wire::RecordType::kSymbol, self_pid_, t_end, [&](wire::WireWriter& w) {
            w.i32(key.first);
            w.u64(key.second);
            w.cstr(name.c_str(), 4096);
        });
    }
    std::vector<pid_t> leftovers;
    if (!opt_.command.empty() && !tree_empty_) {
        for (pid_t p : tracked_) {
            if (p != root_pid_ && kill(p, 0) == 0) leftovers.push_back(p);
        }
    }
    if (!opt_.command.empty()) fold_in_spool();
    trace_.flush();
    if (trace_.bytes_lost() > 0) {
        // Records the file could not take (disk full): said in the trace itself, if it has
        // room again; otherwise the missing end record says the trace is cut.
        trace_.write(wire::RecordType::kCollectorNote, self_pid_, now_ns(), [&](wire::WireWriter& w) {
            w.u8(2);
            w.u16(6);
            std::string text = std::to_string(trace_.bytes_lost()) +
                               " bytes of records could not be written to the trace (" +
                               trace_.write_error() + "): what they said is missing";
            w.cstr(text.c_str());
        });
    }
    trace_.write(wire::RecordType::kTraceEnd, self_pid_, t_end, [&](wire::WireWriter& w) {
        w.i32(root_reaped_ ? root_status_ : -1);
        w.u64(shim_records_);
        w.u64(rejected_records_ + shims_.refused_peers());
        w.u64(kernel_.lost());
        w.u16(static_cast<uint16_t>(leftovers.size() > 0xffff ? 0xffff : leftovers.size()));
        for (size_t i = 0; i < leftovers.size() && i < 0xffff; ++i) w.i32(leftovers[i]);
        w.u64(census_->longest_interval_ns());
    });
    std::string error;
    if (!trace_.close(error)) result_.trace_warning = error;
    spdlog::debug("{} records from the library, {} rejected, {} kernel event losses", shim_records_,
                  rejected_records_ + shims_.refused_peers(), kernel_.lost());

    if (!opt_.command.empty() && root_reaped_) {
        if (WIFEXITED(root_status_)) result_.exit_code = WEXITSTATUS(root_status_);
        if (WIFSIGNALED(root_status_)) result_.exit_code = 128 + WTERMSIG(root_status_);
    }
}

}  // namespace cowtrace::collector

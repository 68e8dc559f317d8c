// cowtrace attach: observe processes already running, and their descendants from now on, from
// outside: no restart, no preload. Their forks, execs and exits come from the kernel's process
// events (or, without them, from polling /proc), each fork's copy-on-write from reading the
// child's and parent's page maps.
#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

#include "collection_run.hpp"
#include "collector/session.hpp"
#include "commands.hpp"
#include "live/episode_line.hpp"
#include "live_terminal.hpp"
#include "live_view.hpp"

namespace cowtrace::cli {

CommandMain add_attach_command(CLI::App& app) {
    struct Args {
        std::vector<pid_t> pids;
        std::string output = "cowtrace.trace";
        std::string duration;  // empty: until the end
        std::string mode = "auto";
        std::string interval = "100ms";
        std::string cpu_share = "2%";
        // Off by default: a production server is what one attaches to, and unwinding sampled
        // faults is half of what the attach costs during a snapshot (docs/PERFORMANCE.md,
        // "Attach: a Redis server observed or not"); --attribution sampled names the code.
        std::string attribution = "off";
        bool quiet = false;
        bool live = false;
        bool poll_children = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* attach = app.add_subcommand(
        "attach",
        "Observe running processes and their descendants from outside, until they end, "
        "--duration passes or Ctrl-C/SIGTERM");
    attach->add_option("PID", args->pids, "Processes to attach to")->required();
    attach->add_option("-o,--output", args->output, "Trace file to write")
        ->default_val("cowtrace.trace");
    attach->add_option("--duration", args->duration,
                       "Stop after this long: 90s, 5m, 1h (a bare number is seconds)");
    attach
        ->add_option("--mode", args->mode,
                     "Copy-on-write measurement: exact (PFN comparison, needs root), "
                     "unprivileged (exclusive bit), or auto")
        ->check(CLI::IsMember({"auto", "exact", "unprivileged"}))
        ->default_val("auto");
    attach
        ->add_option("--interval", args->interval,
                     "Sampling interval (10ms or more); stretched so sampling stays within "
                     "--cpu-share")
        ->default_val("100ms");
    attach->add_option("--cpu-share", args->cpu_share, kCpuShareHelp)->default_val("2%");
    attach->add_flag("--poll-children", args->poll_children,
                     "Find forks, execs and exits by polling /proc every interval instead of the "
                     "kernel's process events (what attach does when those are unavailable): "
                     "coarser, see the README");
    add_attribution_option(*attach, args->attribution);
    attach->add_flag("-q,--quiet", args->quiet, "Print nothing but errors");
    attach->add_flag("--live", args->live,
                     "Show the tree, its open fork episodes (shared, copied, copy rate) and its "
                     "PSS on the terminal as they change; q ends the attach. Without a terminal "
                     "on stdout: one line per fork episode as it ends");
    attach->footer(
        "The processes are never stopped, signalled, ptraced or written to. As root the census "
        "is exact; as the processes' own user, unprivileged; another user's process is "
        "refused.\nWhat only the library sees is missing from the trace, and the report says "
        "so: fork call sites, vfork against fork, failed execs, and what happened before the "
        "attach.");
    return [args]() -> int {
        uint64_t interval_ns = 0;
        if (!sampling_interval(args->interval, "cowtrace attach", interval_ns)) return kExitUsage;
        double cpu_share = 0;
        if (!sampling_cpu_share(args->cpu_share, "cowtrace attach", cpu_share)) return kExitUsage;
        collector::SessionOptions opt;
        opt.trace_path = args->output;
        opt.attach = args->pids;
        opt.census_mode = args->mode;
        opt.interval_ns = interval_ns;
        opt.duty_cycle = cpu_share;
        opt.attribution = args->attribution;
        if (!args->duration.empty() &&
            !run_duration(args->duration, "cowtrace attach", opt.duration_ns))
            return kExitUsage;
        opt.quiet = args->quiet;
        opt.poll_children = args->poll_children;
        auto describe = [](const collector::CollectionStatus& s) {
            return std::to_string(s.processes) + " processes, " + std::to_string(s.forks) +
                   " forks";
        };
        if (args->live && LiveTerminal::available()) {
            std::string pids;
            for (pid_t pid : args->pids) pids += " " + std::to_string(pid);
            LiveView view("cowtrace attach" + pids + " → " + args->output,
                          "q: stop and write the trace   Ctrl-C: the same", interval_ns);
            return run_collection(opt, args->output, "cowtrace attach", describe, &view);
        }
        // No terminal to draw on (a log, a pipe): each episode as it ends, one line each.
        live::LiveState episodes;
        if (args->live) {
            episodes.on_episode_ended = [](const live::EndedEpisode& e) {
                printf("%s\n", live::episode_line(e).c_str());
                fflush(stdout);
            };
            opt.observer = &episodes;
        }
        return run_collection(opt, args->output, "cowtrace attach", describe);
    };
}

}  // namespace cowtrace::cli

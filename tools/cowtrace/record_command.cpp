// cowtrace record: collect from programs started elsewhere (a server under systemd, a CI job)
// that were given LD_PRELOAD=libcowtrace.so and COWTRACE_SOCKET=PATH.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "agent_options.hpp"
#include "collection_run.hpp"
#include "collector/session.hpp"
#include "commands.hpp"
#include "library_locator.hpp"

namespace cowtrace::cli {

namespace {

// A directory only this user can enter: the socket in it is out of everybody else's reach.
bool private_directory(const std::string& dir) {
    struct stat st {};
    return lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
           (st.st_mode & 077) == 0;
}

// The socket path when none is given: $XDG_RUNTIME_DIR/cowtrace.sock in a login session (the
// user's own 0700 directory), else /tmp/cowtrace-<uid>/cowtrace.sock, in a directory made 0700
// for this user. Root outside a login session has no /run/user/0; the /tmp one exists for all.
std::string default_socket_path(std::string& error) {
    const char* runtime = getenv("XDG_RUNTIME_DIR");
    if (runtime != nullptr && *runtime == '/' && strlen(runtime) < 80 &&
        private_directory(runtime)) {
        return std::string(runtime) + "/cowtrace.sock";
    }
    std::string dir = "/tmp/cowtrace-" + std::to_string(geteuid());
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        error = "cannot create " + dir + " for the socket: " + strerror(errno) +
                " (give one with --socket PATH)";
        return {};
    }
    if (!private_directory(dir)) {
        error = dir + " is not a private directory of uid " + std::to_string(geteuid()) +
                " (someone else made it?): give a socket path with --socket PATH";
        return {};
    }
    return dir + "/cowtrace.sock";
}

}  // namespace

CommandMain add_record_command(CLI::App& app) {
    struct Args {
        std::string output = "cowtrace.trace";
        std::string socket;
        std::string duration;  // empty: until the end
        bool no_kernel_events = false;
        bool quiet = false;
        std::string attribution = "sampled";
        AgentFlags agent;
    };
    auto args = std::make_shared<Args>();
    CLI::App* rec = app.add_subcommand(
        "record", "Collect records from programs preloaded elsewhere, until Ctrl-C/SIGTERM");
    rec->add_option("-o,--output", args->output, "Trace file to write")
        ->default_val("cowtrace.trace");
    rec->add_option("--socket", args->socket,
                    "Socket path programs connect to (give them COWTRACE_SOCKET=PATH); default "
                    "$XDG_RUNTIME_DIR/cowtrace.sock, else /tmp/cowtrace-UID/cowtrace.sock. A "
                    "socket left by a collector that was killed is replaced");
    rec->add_option("--duration", args->duration,
                    "Stop after this long: 90s, 5m, 1h (a bare number is seconds)");
    rec->add_flag("--no-kernel-events", args->no_kernel_events,
                  "Do not cross-check with the kernel's proc connector");
    add_attribution_option(*rec, args->attribution);
    rec->add_flag("-q,--quiet", args->quiet, "Print nothing but errors");
    add_agent_options(*rec, args->agent);
    rec->footer("On a terminal, a status line counts processes, forks, records and losses.");
    return [args]() -> int {
        std::string error;
        std::string lib = locate_library(error);
        collector::SessionOptions opt;
        if (!agent_settings_from_flags(args->agent, opt, error)) {
            fprintf(stderr, "cowtrace record: %s\n", error.c_str());
            return kExitUsage;
        }
        opt.trace_path = args->output;
        opt.socket_path = args->socket.empty() ? default_socket_path(error) : args->socket;
        if (opt.socket_path.empty()) {
            fprintf(stderr, "cowtrace: %s\n", error.c_str());
            return kExitToolFailure;
        }
        opt.lib_path = lib.empty() ? "libcowtrace.so" : lib;
        opt.kernel_events = !args->no_kernel_events;
        if (!args->duration.empty() &&
            !run_duration(args->duration, "cowtrace record", opt.duration_ns))
            return kExitUsage;
        opt.quiet = args->quiet;
        opt.attribution = args->attribution;
        return run_collection(
            opt, args->output, "cowtrace record", [](const collector::CollectionStatus& s) {
                return std::to_string(s.processes) + " processes, " + std::to_string(s.forks) +
                       " forks, " + std::to_string(s.records) + " records, " +
                       std::to_string(s.lost) + " lost";
            });
    };
}

}  // namespace cowtrace::cli

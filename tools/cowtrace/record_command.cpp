// cowtrace record: collect from programs started elsewhere (a server under systemd, a CI job)
// that were given LD_PRELOAD=libcowtrace.so and COWTRACE_SOCKET=PATH.
#include <cstdio>
#include <string>

#include "collector/session.hpp"
#include "commands.hpp"
#include "library_locator.hpp"

namespace cowtrace::cli {

CommandMain add_record_command(CLI::App& app) {
    struct Args {
        std::string output = "cowtrace.trace";
        std::string socket;
        double duration_s = 0;
        bool no_kernel_events = false;
        bool quiet = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* rec = app.add_subcommand(
        "record", "Collect records from programs preloaded elsewhere, until Ctrl-C/SIGTERM");
    rec->add_option("-o,--output", args->output, "Trace file to write")->default_val("cowtrace.trace");
    rec->add_option("--socket", args->socket,
                    "Socket path programs connect to (give them COWTRACE_SOCKET=PATH); it must "
                    "not exist yet")
        ->required();
    rec->add_option("--duration", args->duration_s, "Stop after this many seconds")
        ->check(CLI::NonNegativeNumber);
    rec->add_flag("--no-kernel-events", args->no_kernel_events,
                  "Do not cross-check with the kernel's proc connector");
    rec->add_flag("-q,--quiet", args->quiet, "Print nothing but errors");
    return [args]() -> int {
        std::string error;
        std::string lib = locate_library(error);
        collector::SessionOptions opt;
        opt.trace_path = args->output;
        opt.socket_path = args->socket;
        opt.lib_path = lib.empty() ? "libcowtrace.so" : lib;
        opt.kernel_events = !args->no_kernel_events;
        opt.duration_ns = static_cast<uint64_t>(args->duration_s * 1e9);
        opt.quiet = args->quiet;
        collector::Session session(opt);
        collector::SessionResult result = session.run();
        if (!result.error.empty()) {
            fprintf(stderr, "cowtrace: %s\n", result.error.c_str());
            return kExitToolFailure;
        }
        if (!result.trace_warning.empty()) {
            fprintf(stderr, "cowtrace: %s\n", result.trace_warning.c_str());
            return kExitToolFailure;
        }
        if (!args->quiet) fprintf(stderr, "cowtrace: trace written to %s\n", args->output.c_str());
        return 0;
    };
}

}  // namespace cowtrace::cli

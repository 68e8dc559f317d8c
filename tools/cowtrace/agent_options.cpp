#include "agent_options.hpp"

#include "units.hpp"

namespace cowtrace::cli {

void add_agent_options(CLI::App& cmd, AgentFlags& flags) {
    const char* group = "Agent (long-running collection)";
    cmd.add_option("--metrics-listen", flags.metrics_listen,
                   "Serve Prometheus metrics over HTTP at ADDR:PORT, path /metrics "
                   "(127.0.0.1:9464; port 0 picks one)")
        ->type_name("ADDR:PORT")
        ->group(group);
    cmd.add_option("--metrics-file", flags.metrics_file,
                   "Write the metrics to FILE for node_exporter's textfile collector (name it "
                   "*.prom), replaced atomically every --metrics-interval")
        ->type_name("FILE")
        ->group(group);
    cmd.add_option("--metrics-interval", flags.metrics_interval,
                   "How often --metrics-file is rewritten (default 15s)")
        ->type_name("DURATION")
        ->group(group);
    cmd.add_option("--rotate-size", flags.rotate_size,
                   "Start a new trace file when this one reaches SIZE (64MiB, 1GiB); the full one "
                   "becomes TRACE.1, TRACE.1 becomes TRACE.2 … Each is a complete trace")
        ->type_name("SIZE")
        ->group(group);
    cmd.add_option("--rotate-age", flags.rotate_age,
                   "Start a new trace file when this one is DURATION old (1h, 30m, 86400s)")
        ->type_name("DURATION")
        ->group(group);
    cmd.add_option("--keep", flags.keep, "Rotated trace files kept (default 7): the oldest go")
        ->type_name("N")
        ->check(CLI::Range(1u, 10000u))
        ->group(group);
}

bool agent_settings_from_flags(const AgentFlags& flags, collector::SessionOptions& options,
                               std::string& error) {
    options.metrics.listen = flags.metrics_listen;
    options.metrics.file = flags.metrics_file;
    if (!parse_duration(flags.metrics_interval, options.metrics.file_interval_ns, error)) {
        error = "--metrics-interval " + error;
        return false;
    }
    if (options.metrics.file_interval_ns < 100'000'000) {
        error = "--metrics-interval must be at least 100ms";
        return false;
    }
    if (!flags.rotate_size.empty() &&
        !parse_size(flags.rotate_size, options.rotation.max_bytes, error)) {
        error = "--rotate-size " + error;
        return false;
    }
    if (!flags.rotate_age.empty() &&
        !parse_duration(flags.rotate_age, options.rotation.max_age_ns, error)) {
        error = "--rotate-age " + error;
        return false;
    }
    if (options.rotation.max_bytes > 0 && options.rotation.max_bytes < (64u << 10)) {
        error = "--rotate-size must be at least 64KiB";
        return false;
    }
    if (options.rotation.max_age_ns > 0 && options.rotation.max_age_ns < 1'000'000'000ull) {
        error = "--rotate-age must be at least 1s";
        return false;
    }
    options.rotation.keep = flags.keep;
    return true;
}

}  // namespace cowtrace::cli

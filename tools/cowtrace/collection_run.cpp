#include "collection_run.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "commands.hpp"
#include "live_view.hpp"
#include "progress_line.hpp"
#include "units.hpp"

namespace cowtrace::cli {

bool run_duration(const std::string& text, const char* who, uint64_t& ns) {
    std::string error;
    bool bare = !text.empty() && text.find_first_not_of("0123456789.") == std::string::npos;
    if (!parse_duration(bare ? text + "s" : text, ns, error)) {
        fprintf(stderr, "%s: --duration %s\n", who, error.c_str());
        return false;
    }
    return true;
}

bool sampling_interval(const std::string& text, const char* who, uint64_t& ns) {
    std::string error;
    if (!parse_duration(text, ns, error)) {
        fprintf(stderr, "%s: --interval %s\n", who, error.c_str());
        return false;
    }
    if (ns < 10'000'000) {
        fprintf(stderr, "%s: --interval must be at least 10ms\n", who);
        return false;
    }
    return true;
}

bool sampling_cpu_share(const std::string& text, const char* who, double& share) {
    // "5%" or "5": a percentage of one core.
    std::string number =
        !text.empty() && text.back() == '%' ? text.substr(0, text.size() - 1) : text;
    char* end = nullptr;
    double percent = number.empty() ? 0 : strtod(number.c_str(), &end);
    if (number.empty() || end == nullptr || *end != '\0' || !(percent > 0 && percent <= 100)) {
        fprintf(stderr,
                "%s: --cpu-share %s: expected a percentage of one core, above 0%% and "
                "at most 100%% (2%%, 10%%)\n",
                who, text.c_str());
        return false;
    }
    share = percent / 100;
    return true;
}

uint64_t live_refresh_ns(uint64_t interval_ns) {
    return interval_ns < 50'000'000 ? 50'000'000 : interval_ns;
}

CLI::Option* add_attribution_option(CLI::App& command, std::string& mode) {
    std::string default_mode = mode;
    return command
        .add_option("--attribution", mode,
                    "Which code copied: sample both sides' page faults during each fork episode "
                    "and unwind them (sampled: a few percent of the copies' cost; full: every "
                    "fault, for tests and short runs; off)")
        ->check(CLI::IsMember({"off", "sampled", "full"}))
        ->default_val(default_mode);
}

int run_collection(collector::SessionOptions opt, const std::string& trace_path, const char* who,
                   const std::function<std::string(const collector::CollectionStatus&)>& describe,
                   LiveView* live) {
    // Drawn only when stderr is a terminal (ProgressLine decides), and not under a live view.
    ProgressLine status(who);
    collector::Session* running = nullptr;
    if (live) {
        opt.observer = &live->state();
        opt.status_interval_ns = live_refresh_ns(opt.interval_ns);
        opt.on_status = [live](const collector::CollectionStatus&) { live->refresh(); };
        live->on_quit = [&running] {
            if (running) running->stop();
        };
    } else if (!opt.quiet) {
        opt.on_status = [&status, &describe](const collector::CollectionStatus& s) {
            status.phase(describe(s));
        };
    }
    collector::Session session(opt);
    running = &session;
    collector::SessionResult result = session.run();
    if (live) live->close();
    status.done();
    if (!result.error.empty()) {
        fprintf(stderr, "%s: %s\n", who, result.error.c_str());
        return kExitToolFailure;
    }
    if (!result.trace_warning.empty()) {
        fprintf(stderr, "cowtrace: %s\n", result.trace_warning.c_str());
        return kExitToolFailure;
    }
    if (!opt.quiet) fprintf(stderr, "cowtrace: trace written to %s\n", trace_path.c_str());
    return 0;
}

}  // namespace cowtrace::cli

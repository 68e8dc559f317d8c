#include "trace_completeness.hpp"

#include <fmt/format.h>

namespace cowtrace::check {

std::vector<std::string> what_the_trace_lacks(const model::ProcessTree& tree) {
    std::vector<std::string> lacks;
    if (!tree.reader_error.empty()) {
        lacks.push_back("it is damaged, and what follows the damage is lost (" + tree.reader_error +
                        ")");
    }
    if (!tree.complete) {
        lacks.push_back(
            "it has no end record: the collector was killed or has not finished, so what "
            "happened after its last record (forks, copies, exits) is missing");
    }
    uint64_t lost = tree.dropped_records;
    std::vector<pid_t> pids;
    for (const auto& p : tree.processes) {
        lost += p.seq_gaps();
        if (p.seq_gaps() || p.dropped_records()) pids.push_back(p.pid);
    }
    if (lost > 0) {
        std::string who;
        for (size_t i = 0; i < pids.size() && i < 5; ++i)
            who += (i ? ", " : "") + std::to_string(pids[i]);
        if (pids.size() > 5) who += ", …";
        lacks.push_back(fmt::format("{} record{} of the library never reached it (pid {})", lost,
                                    lost == 1 ? "" : "s", who));
    }
    return lacks;
}

BudgetResult completeness_result(const std::vector<std::string>& lacks, bool allowed) {
    BudgetResult r;
    r.name = "complete-trace";
    r.exit_bit = kExitIncompleteTrace;
    r.from_option = false;
    if (lacks.empty()) {
        r.summary = "the trace holds the whole run";
        return r;
    }
    r.summary = "the trace is incomplete: ";
    for (size_t i = 0; i < lacks.size(); ++i) r.summary += (i ? "; " : "") + lacks[i];
    r.summary += allowed ? " (--allow-incomplete: the budgets judge what it holds)"
                         : "; the budgets could pass only because what broke them is missing "
                           "(--allow-incomplete checks what it holds)";
    r.verdict = allowed ? Verdict::kMet : Verdict::kTraceIncomplete;
    return r;
}

}  // namespace cowtrace::check

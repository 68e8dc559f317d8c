// Budgets a run must stay within (`cowtrace check`, `cowtrace run --max-…`), and what checking
// one against a trace found. A budget left unset is not checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cowtrace::check {

struct Budgets {
    std::optional<uint64_t> max_cow_bytes;        // peak copied bytes of any fork episode
    std::optional<double> max_cow_ratio_percent;  // peak copied / shared at fork, of any episode
    std::optional<uint64_t> max_cow_concurrent_bytes;  // copied by the episodes alive at once
    std::optional<uint64_t> max_rss_bytes;             // any one process's RSS, peak over the run
    std::optional<uint64_t> max_tree_pss_bytes;        // the whole tree's PSS, peak over the run
    std::optional<uint64_t> max_processes;             // processes in the trace, the root included
    bool no_leftover_processes = false;                // none may outlive the traced command

    bool any() const {
        return max_cow_bytes || max_cow_ratio_percent || max_cow_concurrent_bytes ||
               max_rss_bytes || max_tree_pss_bytes || max_processes || no_leftover_processes;
    }
};

// Exit status bits, ORed together when several kinds of budget fail (like gcovr's
// --fail-under-*). They avoid 1 (unreadable trace), 2 (usage), 125/127 and 128+N (signals) that
// `cowtrace run` reports for other reasons: the highest combination is 60.
inline constexpr int kExitCowBudget = 4;         // --max-cow, --max-cow-ratio, --max-cow-concurrent
inline constexpr int kExitMemoryBudget = 8;      // --max-rss, --max-tree-pss
inline constexpr int kExitProcessBudget = 16;    // --max-processes, --no-leftover-processes
inline constexpr int kExitIncompleteTrace = 32;  // damaged or cut short (unless allowed)

enum class Verdict {
    kMet,
    kExceeded,
    kNotMeasured,      // the trace lacks what the budget needs (e.g. recorded with --no-cow): fails
    kTraceIncomplete,  // the trace is damaged or cut short: no budget can be trusted to pass
};

struct BudgetResult {
    std::string name;   // the option without dashes, stable for CI history: "max-cow"
    std::string limit;  // as people read it: "4.0 MiB", "25%", "10"; empty for a plain flag
    Verdict verdict = Verdict::kMet;
    std::string summary;                 // one sentence: what was limited and what happened
    std::vector<std::string> offenders;  // the episodes or processes that broke it, worst first
    int exit_bit = 0;                    // kExit…Budget for its kind
    bool from_option = true;             // false for a verdict no option asks for (complete-trace)

    bool failed() const { return verdict != Verdict::kMet; }
    // "--max-cow 4.0 MiB", "--no-leftover-processes"; "complete-trace"
    std::string option() const {
        return (from_option ? "--" : "") + name + (limit.empty() ? "" : " " + limit);
    }
};

}  // namespace cowtrace::check

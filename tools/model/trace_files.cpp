#include "tree_builder.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

// Reading a trace from its files: the trace, the spool files beside it, and what the files say
// about their own losses.
namespace cowtrace::model {

namespace {

// What the trace itself cannot say about its own loss: when the collector stopped, what the
// library spooled meanwhile, how many records never arrived anywhere.
void note_losses(ProcessTree& tree, const std::vector<RawRecord>& records,
                 const std::vector<std::string>& spools) {
    uint64_t last_collector_ns = 0, spooled = 0, spooled_after = 0;
    for (const auto& r : records) {
        if (r.header.flags & wire::kFromSpool) continue;
        last_collector_ns = std::max(last_collector_ns, r.header.t_ns);
    }
    for (const auto& r : records) {
        if (!(r.header.flags & wire::kFromSpool)) continue;
        ++spooled;
        if (r.header.t_ns > last_collector_ns) ++spooled_after;
    }
    uint64_t lost = 0;
    for (const auto& p : tree.processes) lost += p.records_lost();
    auto note = [&tree](uint64_t t, std::string text) {
        tree.notes.push_back(TraceNote{t, 2, std::move(text)});
    };
    uint64_t lost_at = last_collector_ns > tree.t0_ns ? last_collector_ns - tree.t0_ns : 0;
    if (!tree.complete && tree.t0_ns != 0) {
        std::string text = "collector lost at t=" + std::to_string(lost_at / 1000000) +
                           " ms: the trace has no end record";
        if (spooled_after) {
            text += "; " + std::to_string(spooled_after) + " later records recovered from " +
                    (spools.empty() ? std::string("the spool") : spools.front());
        }
        note(lost_at, text);
    } else if (spooled && !spools.empty()) {
        note(lost_at, std::to_string(spooled) + " records read from " + spools.front());
    }
    if (lost > 0) {
        note(lost_at, std::to_string(lost) +
                          " records were lost (neither delivered nor spooled): figures for the "
                          "processes marked records_missing are incomplete");
    }
}

bool is_spool_path(const std::string& p) {
    return p.size() > 6 && p.compare(p.size() - 6, 6, ".spool") == 0;
}

}  // namespace

bool build_process_tree(const std::vector<std::string>& given, ProcessTree& tree,
                        std::string& error) {
    // `cowtrace run -o T` has the library spool to T.spool when the collector stalls or dies:
    // read it with T even when not named.
    std::vector<std::string> paths = given;
    std::vector<std::string> spools;
    std::vector<std::string> ignored;
    for (const auto& p : given) {
        if (is_spool_path(p)) spools.push_back(p);
    }
    for (const auto& p : given) {
        std::string companion = p + ".spool";
        if (is_spool_path(p) || std::find(paths.begin(), paths.end(), companion) != paths.end()) {
            continue;
        }
        if (access(companion.c_str(), R_OK) != 0) continue;
        // Only a spool of the trace's owner is read with it: in a shared directory somebody
        // else could leave one there.
        struct stat trace_st {
        }, spool_st{};
        if (stat(p.c_str(), &trace_st) == 0 && lstat(companion.c_str(), &spool_st) == 0 &&
            (!S_ISREG(spool_st.st_mode) || spool_st.st_uid != trace_st.st_uid)) {
            ignored.push_back(companion +
                              " was not read: it is not a file of the trace's owner (uid " +
                              std::to_string(trace_st.st_uid) + ")");
            continue;
        }
        paths.push_back(companion);
        spools.push_back(companion);
    }
    std::vector<std::unique_ptr<TraceReader>> readers;
    std::vector<RawRecord> records;
    for (const auto& path : paths) {
        auto reader = std::make_unique<TraceReader>();
        if (!reader->open(path)) {
            error = reader->error();
            return false;
        }
        RawRecord rec;
        while (reader->next(rec)) records.push_back(rec);
        if (!reader->error().empty()) {
            if (!tree.reader_error.empty()) tree.reader_error += "; ";
            tree.reader_error += path + ": " + reader->error();
        }
        readers.push_back(std::move(reader));
    }
    std::vector<RawRecord> copy = records;
    build_process_tree_from(std::move(records), tree);
    note_losses(tree, copy, spools);
    for (auto& text : ignored) tree.notes.push_back(TraceNote{0, 2, std::move(text)});
    // The records point into the readers' mappings, which end here: nothing above keeps them.
    return true;
}

}  // namespace cowtrace::model

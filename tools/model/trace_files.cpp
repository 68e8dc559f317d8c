#include "tree_builder.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <new>
#include <stdexcept>

// Reading a trace from its files: the trace, the spool files beside it, and what the files say
// about their own losses.
namespace cowtrace::model {

namespace {

// What the records say of the collector's end and of the spool, counted before the tree builder
// takes them (so that they need not be copied).
struct SpoolFigures {
    uint64_t last_collector_ns = 0;  // the collector's last record
    uint64_t spooled = 0;            // records read from a spool
    uint64_t spooled_after = 0;      // of those, stamped after the collector's last record
};

SpoolFigures spool_figures(const TimeOrderedRecords& records) {
    SpoolFigures f;
    for (size_t i = 0; i < records.size(); ++i) {
        const wire::RecordHeader h = records.at(i).header;
        if (h.flags & wire::kFromSpool) continue;
        f.last_collector_ns = std::max(f.last_collector_ns, h.t_ns);
    }
    for (size_t i = 0; i < records.size(); ++i) {
        const wire::RecordHeader h = records.at(i).header;
        if (!(h.flags & wire::kFromSpool)) continue;
        ++f.spooled;
        if (h.t_ns > f.last_collector_ns) ++f.spooled_after;
    }
    return f;
}

// What the trace itself cannot say about its own loss: when the collector stopped, what the
// library spooled meanwhile, how many records never arrived anywhere.
void note_losses(ProcessTree& tree, const SpoolFigures& figures,
                 const std::vector<std::string>& spools) {
    auto [last_collector_ns, spooled, spooled_after] = figures;
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

// At most how many records the files hold (a record is at least its header), so that their list
// is allocated once: grown by doubling, it was copied at each step, with a page fault for each
// new page (12 % of a report's time at 100,000 processes). What is reserved and never filled is
// never touched, so it costs address space, not memory. (A compressed file holds more: its list
// grows.)
size_t most_records_in(const std::vector<std::string>& paths) {
    uint64_t bytes = 0;
    for (const auto& path : paths) {
        struct stat st {};
        if (stat(path.c_str(), &st) == 0 && st.st_size > 0)
            bytes += static_cast<uint64_t>(st.st_size);
    }
    return static_cast<size_t>(bytes / sizeof(wire::RecordHeader));
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
    TimeOrderedRecords records;
    try {
        records.reserve(most_records_in(paths));
    } catch (const std::length_error&) {  // more than the address space allows: grown instead
    } catch (const std::bad_alloc&) {
    }
    for (const auto& path : paths) {
        auto reader = std::make_unique<TraceReader>();
        if (!reader->open(path)) {
            error = reader->error();
            return false;
        }
        RawRecord rec;
        while (reader->next(rec)) records.add_in_place(rec);
        if (!reader->error().empty()) {
            if (!tree.reader_error.empty()) tree.reader_error += "; ";
            tree.reader_error += path + ": " + reader->error();
        }
        readers.push_back(std::move(reader));
    }
    SpoolFigures figures = spool_figures(records);
    build_process_tree_from(records, tree);
    note_losses(tree, figures, spools);
    for (auto& text : ignored) tree.notes.push_back(TraceNote{0, 2, std::move(text)});
    // The records point into the readers' mappings, which end here: nothing above keeps them.
    return true;
}

}  // namespace cowtrace::model

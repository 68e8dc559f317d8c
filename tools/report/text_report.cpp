#include "text_report.hpp"

#include <fmt/format.h>

#include <csignal>
#include <cstring>
#include <functional>
#include <map>

namespace cowtrace::report {

namespace {

using model::Process;
using model::ProcessTree;

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// What a process is called: its last successful exec, else its command line, else its creator's.
std::string name_of(const ProcessTree& tree, const Process& p, int depth = 0) {
    for (auto it = p.execs.rbegin(); it != p.execs.rend(); ++it) {
        if (it->ok && !it->path.empty()) return base_name(it->path);
    }
    if (!p.argv.empty()) return base_name(p.argv[0]);
    if (depth < 64 && p.ppid > 0) {
        if (const Process* parent = tree.find_current(p.ppid); parent && parent != &p) {
            return name_of(tree, *parent, depth + 1);
        }
    }
    return "?";
}

std::string argv_of(const Process& p) {
    const std::vector<std::string>* argv = &p.argv;
    for (auto it = p.execs.rbegin(); it != p.execs.rend(); ++it) {
        if (it->ok && !it->argv.empty()) {
            argv = &it->argv;
            break;
        }
    }
    std::string out;
    for (size_t i = 1; i < argv->size(); ++i) {
        const std::string& a = (*argv)[i];
        bool quote = a.empty() || a.find_first_of(" \t'\"$\\") != std::string::npos;
        out += " ";
        out += quote ? "'" + a + "'" : a;
    }
    return out;
}

std::string ended_text(const Process& p) {
    if (p.still_running) return "still running";
    switch (p.exit.kind) {
        case model::ExitStatus::Kind::kCode:
            return fmt::format("exit {}", p.exit.code);
        case model::ExitStatus::Kind::kSignal: {
            const char* abbrev = sigabbrev_np(p.exit.signal);
            return fmt::format("killed by SIG{}{}", abbrev ? abbrev : std::to_string(p.exit.signal),
                               p.exit.core ? " (core dumped)" : "");
        }
        case model::ExitStatus::Kind::kUnknown:
            break;
    }
    return "end unknown";
}

std::string seconds(uint64_t ns) { return fmt::format("{:.3f}s", static_cast<double>(ns) / 1e9); }

std::string flags_text(const ProcessTree& tree, const Process& p) {
    std::string out;
    auto add = [&out](const std::string& s) {
        out += out.empty() ? "  [" : ", ";
        out += s;
    };
    bool is_root = p.pid == tree.root_pid && p.ppid == tree.collector_pid;
    if (!is_root && !p.creation_seen_by_shim) add("created by an untraced mechanism");
    for (const auto& e : p.execs) {
        if (!e.ok) continue;
        if (e.image_flags & wire::kImageStatic) add("exec'd a static binary: not instrumented");
        if (e.image_flags & (wire::kImageSetid | wire::kImageFileCaps))
            add("exec'd a set-id program: LD_PRELOAD dropped");
    }
    int failed = 0;
    for (const auto& e : p.execs) failed += e.ok ? 0 : 1;
    if (failed) add(fmt::format("{} failed exec{}", failed, failed > 1 ? "s" : ""));
    if (p.deepbind) add("loaded a RTLD_DEEPBIND plugin: its calls are not seen");
    if (p.seq_gaps || p.dropped_records)
        add(fmt::format("{} records lost", p.seq_gaps + p.dropped_records));
    return out.empty() ? out : out + "]";
}

std::string line_of(const ProcessTree& tree, const Process& p, const TextOptions& o) {
    std::string how;
    if (p.pid != tree.root_pid) how = model::create_how_name(p.how);
    size_t ok_execs = 0;
    for (const auto& e : p.execs) ok_execs += e.ok ? 1 : 0;
    if (ok_execs > 0 && p.pid != tree.root_pid) how += ok_execs > 1 ? fmt::format("+{} execs", ok_execs) : "+exec";
    std::string life = seconds(p.start_ns) + "–" + (p.end_ns ? seconds(*p.end_ns) : "…");
    return fmt::format("{}({}){}{}  {}  {}{}", name_of(tree, p), p.pid,
                       o.show_argv ? argv_of(p) : "", how.empty() ? "" : "  " + how, life,
                       ended_text(p), flags_text(tree, p));
}

// A leaf that looks like its neighbours can be folded into N*[name].
std::string fold_key(const ProcessTree& tree, const Process& p, const TextOptions& o) {
    if (!p.children.empty()) return {};
    return name_of(tree, p) + (o.show_argv ? argv_of(p) : "") + "|" + ended_text(p) + "|" +
           flags_text(tree, p);
}

void write_node(const ProcessTree& tree, size_t idx, const std::string& prefix, bool last,
                bool top, const TextOptions& o, std::ostream& out) {
    const Process& p = tree.processes[idx];
    out << prefix << (top ? "" : (last ? "└─" : "├─")) << line_of(tree, p, o) << "\n";
    std::string child_prefix = prefix + (top ? "" : (last ? "  " : "│ "));
    const auto& kids = p.children;
    for (size_t i = 0; i < kids.size();) {
        size_t j = i + 1;
        std::string key = o.compact ? fold_key(tree, tree.processes[kids[i]], o) : "";
        while (!key.empty() && j < kids.size() && fold_key(tree, tree.processes[kids[j]], o) == key) ++j;
        bool is_last = j == kids.size();
        if (j - i >= 3) {
            const Process& first = tree.processes[kids[i]];
            out << child_prefix << (is_last ? "└─" : "├─")
                << fmt::format("{}*[{}{}]  {}{}", j - i, name_of(tree, first),
                               o.show_argv ? argv_of(first) : "", ended_text(first),
                               flags_text(tree, first))
                << "\n";
        } else {
            for (size_t k = i; k < j; ++k) {
                write_node(tree, kids[k], child_prefix, k + 1 == kids.size(), false, o, out);
            }
        }
        i = j;
    }
}

}  // namespace

void write_text(const ProcessTree& tree, const TextOptions& o, std::ostream& out) {
    std::string cmd;
    for (const auto& a : tree.command) cmd += (cmd.empty() ? "" : " ") + a;
    out << fmt::format("cowtrace: {} process{} in {}", tree.processes.size(),
                       tree.processes.size() == 1 ? "" : "es", seconds(tree.end_ns));
    if (!cmd.empty()) out << " — " << cmd;
    out << "\n\n";
    for (size_t r : tree.roots()) write_node(tree, r, "", true, true, o, out);

    std::vector<std::string> health;
    if (!tree.complete) health.push_back("the trace has no end record: the collector did not finish");
    if (!tree.reader_error.empty()) health.push_back("the trace is damaged: " + tree.reader_error);
    if (!tree.kernel_events) health.push_back("kernel cross-check unavailable: " + tree.kernel_events_note);
    if (tree.kernel_events_lost) health.push_back(fmt::format("the kernel dropped process events {} times", tree.kernel_events_lost));
    if (tree.dropped_records) health.push_back(fmt::format("{} records were never delivered", tree.dropped_records));
    if (tree.rejected_records) health.push_back(fmt::format("{} records were rejected (malformed or foreign uid)", tree.rejected_records));
    for (const auto& n : tree.notes) {
        if (n.severity >= 2) health.push_back(fmt::format("at {}: {}", seconds(n.t_ns), n.text));
    }
    if (!health.empty()) {
        out << "\n";
        for (const auto& h : health) out << "note: " << h << "\n";
    }
}

}  // namespace cowtrace::report

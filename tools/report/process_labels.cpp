#include "process_labels.hpp"

#include <fmt/format.h>

#include <csignal>
#include <cstring>

namespace cowtrace::report {

namespace {

using model::Process;

// Creator chains are short; the bound only guards against a damaged trace that loops.
constexpr int kMaxCreatorDepth = 64;

std::string base_name(std::string_view path) {
    auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

const model::CommandLine& current_argv(const model::ProcessTree& tree, const Process& p) {
    std::span<const model::ExecEvent> execs = tree.execs_of(p);
    for (auto it = execs.rbegin(); it != execs.rend(); ++it) {
        if (it->ok && !it->argv.empty()) return it->argv;
    }
    return p.argv;
}

std::string quoted(std::string_view a) {
    // Anything a shell would expand or split on.
    bool quote =
        a.empty() || a.find_first_of(" \t\n'\"$\\`*?[]{}()<>|&;#~!") != std::string_view::npos;
    if (!quote) return std::string(a);
    std::string out = "'";
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace

ProcessLabels::ProcessLabels(const model::ProcessTree& tree)
    : tree_(tree), creator_(tree.processes.size()) {
    for (size_t i = 0; i < tree.processes.size(); ++i) {
        for (size_t c : tree.children_of(tree.processes[i])) {
            if (c < creator_.size()) creator_[c] = i;
        }
    }
}

ProcessLabels::Image ProcessLabels::image_at(size_t index, uint64_t t_ns, bool want_argv) const {
    auto wanted = [want_argv](const model::ExecEvent& e) {
        return e.ok && (want_argv ? !e.argv.empty() : !e.path.empty());
    };
    auto image_of = [want_argv](const model::ExecEvent& e) {
        return want_argv ? Image{std::nullopt, &e.argv} : Image{e.path.view(), nullptr};
    };
    for (int depth = 0; depth < kMaxCreatorDepth && index < tree_.processes.size(); ++depth) {
        const Process& p = tree_.processes[index];
        std::span<const model::ExecEvent> execs = tree_.execs_of(p);
        for (auto it = execs.rbegin(); it != execs.rend(); ++it) {
            if (it->t_ns <= t_ns && wanted(*it)) return image_of(*it);
        }
        // Before its first exec a process runs what its creator ran when it was created. Only
        // the first process of a tree (or of a trace that lost its creator) is asked about a time
        // before the image it started with: that is its first image.
        if (creator_[index]) {
            t_ns = p.start_ns;
            index = *creator_[index];
            continue;
        }
        for (const auto& e : execs) {
            if (wanted(e)) return image_of(e);
        }
        if (!p.argv.empty())
            return want_argv ? Image{std::nullopt, &p.argv} : Image{p.argv[0], nullptr};
        break;
    }
    return {};
}

std::string ProcessLabels::name(size_t index) const {
    return name_at(index, UINT64_MAX);
}

std::string ProcessLabels::name_at(size_t index, uint64_t t_ns) const {
    Image image = image_at(index, t_ns, false);
    return image.path ? base_name(*image.path) : "?";
}

std::string ProcessLabels::command_line(size_t index) const {
    Image image = image_at(index, UINT64_MAX, true);
    return image.argv ? command_text(*image.argv) : name(index);
}

namespace {

template <class Words>
std::string words_text(const Words& argv) {
    std::string out;
    for (size_t i = 0; i < argv.size(); ++i) out += (i ? " " : "") + quoted(argv[i]);
    return out;
}

}  // namespace

std::string command_text(const model::CommandLine& argv) {
    return words_text(argv);
}

std::string command_text(const std::vector<std::string>& argv) {
    return words_text(argv);
}

std::optional<size_t> ProcessLabels::creator(size_t index) const {
    return index < creator_.size() ? creator_[index] : std::nullopt;
}

size_t ProcessLabels::index_of(const model::Process& p) const {
    return static_cast<size_t>(&p - tree_.processes.data());
}

std::string argument_text(const model::ProcessTree& tree, const Process& p) {
    const model::CommandLine& argv = current_argv(tree, p);
    std::string out;
    for (size_t i = 1; i < argv.size(); ++i) out += " " + quoted(argv[i]);
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

const Process* root_command(const model::ProcessTree& tree) {
    if (tree.root_pid <= 0) return nullptr;
    for (const auto& p : tree.processes) {
        if (p.pid == tree.root_pid && p.ppid == tree.collector_pid) return &p;
    }
    return nullptr;
}

}  // namespace cowtrace::report

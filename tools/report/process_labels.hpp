// How reports name a process: the words every renderer (text, HTML, Perfetto, budgets) shows for
// it, so that one process reads the same in all of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/process_tree.hpp"

namespace cowtrace::report {

class ProcessLabels {
public:
    // Indexes every process's creator once: renderers ask for thousands of names.
    explicit ProcessLabels(const model::ProcessTree& tree);

    // Its last successful exec's file name, else its command name, else its creator's (a forked
    // child runs its parent's program).
    std::string name(size_t index) const;
    // The program it ran at t_ns: its last successful exec by then; before its first, the
    // program its creator ran when it was created (a helper a wrapper forked before exec'ing a
    // server ran the wrapper, not the server).
    std::string name_at(size_t index, uint64_t t_ns) const;
    // The whole command line as it would be typed; falls back to the creator's like name_at().
    std::string command_line(size_t index) const;
    // The process that created it, if that one is in the trace.
    std::optional<size_t> creator(size_t index) const;

    size_t index_of(const model::Process& p) const;

private:
    // What index ran at t_ns, found as name_at() says: an exec's file name or a command line
    // (want_argv), the other left null; both null when unknown.
    struct Image {
        std::optional<std::string_view> path;
        const model::CommandLine* argv = nullptr;
    };
    Image image_at(size_t index, uint64_t t_ns, bool want_argv) const;

    const model::ProcessTree& tree_;
    std::vector<std::optional<size_t>> creator_;
};

// The arguments after argv[0], shell-quoted where needed, each after a space ("" if none).
std::string argument_text(const model::ProcessTree& tree, const model::Process& p);

// A whole command line as it would be typed: every word shell-quoted where needed, so that an
// empty argument shows as '' ("" for no words at all).
std::string command_text(const model::CommandLine& argv);
std::string command_text(const std::vector<std::string>& argv);

// "exit 0", "killed by SIGKILL (core dumped)", "still running", "end unknown".
std::string ended_text(const model::Process& p);

// The traced command: the root process `cowtrace run` started (none in record mode).
const model::Process* root_command(const model::ProcessTree& tree);

}  // namespace cowtrace::report

// A file name an exec named: the file it ran, or the name as the program passed it. Kept
// interned, as command lines are: a build's 100,000 runs of /usr/bin/cc hold the name once, and
// each exec holds 8 bytes where its path and requested path were two strings of 32 (issue 15).
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

#include "command_line.hpp"

namespace cowtrace::model {

class ExecPath {
public:
    ExecPath() = default;  // no path
    // A path of its own, not interned (tests): the build interns with interned().
    ExecPath(std::string_view path);
    ExecPath(const char* path) : ExecPath(std::string_view(path)) {}
    ExecPath(const std::string& path) : ExecPath(std::string_view(path)) {}
    // The path, shared with every path and one-word command line spelt the same in table.
    static ExecPath interned(std::string_view path, CommandLineTable& table);

    bool empty() const { return word_.empty(); }
    std::string_view view() const { return word_.empty() ? std::string_view() : word_[0]; }
    std::string str() const { return std::string(view()); }
    bool shares_storage_with(const ExecPath& o) const { return word_.shares_storage_with(o.word_); }

    friend bool operator==(const ExecPath& a, const ExecPath& b) {
        return a.shares_storage_with(b) || a.view() == b.view();
    }

private:
    explicit ExecPath(CommandLine word) : word_(std::move(word)) {}

    CommandLine word_;  // the path as the only word; no words for no path
};

std::ostream& operator<<(std::ostream& out, const ExecPath& path);  // for test messages

}  // namespace cowtrace::model

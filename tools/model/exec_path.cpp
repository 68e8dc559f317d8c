#include "exec_path.hpp"

#include <ostream>
#include <span>

namespace cowtrace::model {

ExecPath::ExecPath(std::string_view path) {
    if (!path.empty()) word_ = CommandLine(std::span<const std::string_view>(&path, 1));
}

ExecPath ExecPath::interned(std::string_view path, CommandLineTable& table) {
    if (path.empty()) return {};
    return ExecPath(table.intern(std::span<const std::string_view>(&path, 1)));
}

std::ostream& operator<<(std::ostream& out, const ExecPath& path) {
    return out << '"' << path.view() << '"';
}

}  // namespace cowtrace::model

#include "library_locator.hpp"

#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace cowtrace::cli {

std::string locate_library(std::string& error) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (const char* env = getenv("COWTRACE_LIB"); env != nullptr && *env != '\0') {
        fs::path p = fs::absolute(env, ec);
        if (!ec && fs::is_regular_file(p, ec)) return p.string();
        error = std::string("COWTRACE_LIB=") + env + " is not a file";
        return {};
    }
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) {
        error = "cannot find my own executable: " + ec.message();
        return {};
    }
    fs::path lib = exe.parent_path().parent_path() / "lib" / "libcowtrace.so";
    if (fs::is_regular_file(lib, ec)) return lib.string();
    error = "libcowtrace.so not found at " + lib.string() + " (set COWTRACE_LIB)";
    return {};
}

}  // namespace cowtrace::cli

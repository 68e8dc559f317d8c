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
    // The build tree (bin/ beside lib/), then the install tree (GNUInstallDirs' libdir, which
    // may be lib/x86_64-linux-gnu).
    fs::path build_tree = exe.parent_path().parent_path() / "lib" / "libcowtrace.so";
    fs::path installed = exe.parent_path() / COWTRACE_INSTALLED_LIB_DIR / "libcowtrace.so";
    for (const fs::path& lib : {build_tree, installed}) {
        if (fs::is_regular_file(lib, ec)) return lib.lexically_normal().string();
    }
    error = "libcowtrace.so not found at " + build_tree.string() + " nor " +
            installed.lexically_normal().string() + " (set COWTRACE_LIB)";
    return {};
}

}  // namespace cowtrace::cli

#include "trace_loading.hpp"

#include <sys/stat.h>

#include "model/tree_builder.hpp"
#include "report/byte_size.hpp"

namespace cowtrace::cli {

bool load_trace(const std::vector<std::string>& paths, model::ProcessTree& tree, std::string& error,
                ProgressLine& progress) {
    uint64_t total = 0;
    for (const auto& p : paths) {
        struct stat st {};
        if (stat(p.c_str(), &st) == 0) total += static_cast<uint64_t>(st.st_size);
    }
    progress.phase("reading " +
                   (paths.size() == 1 ? paths.front() : std::to_string(paths.size()) + " files") +
                   " (" + report::format_bytes(total) + ")");
    return model::build_process_tree(paths, tree, error);
}

}  // namespace cowtrace::cli

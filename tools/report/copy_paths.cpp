#include "copy_paths.hpp"

#include <fmt/format.h>

#include <cmath>

namespace cowtrace::report {

bool is_copy_primitive(const std::string& frame) {
    size_t i = frame.find_first_not_of('_');
    if (i == std::string::npos) return false;
    std::string name = frame.substr(i, frame.find(' ', i) - i);
    for (const char* prefix : {"mem", "wmem", "str", "wcs", "bcopy", "bzero", "stp"}) {
        if (name.rfind(prefix, 0) == 0) return true;
    }
    return false;
}

std::string copy_path_text(const model::CopyPath& path) {
    const auto& frames = path.frames;
    size_t first = 0;
    while (first < frames.size() && is_copy_primitive(frames[first])) ++first;
    if (first == frames.size()) first = 0;
    std::string text = frames.empty() ? "[no frames]" : frames[first];
    if (first + 1 < frames.size()) text += " ← " + frames[first + 1];
    return text;
}

std::vector<std::string> top_copy_paths(const model::ForkEpisode& e, size_t top) {
    uint64_t total = 0;
    for (const auto& p : e.copy_paths) total += p.copied_bytes;
    std::vector<std::string> lines;
    for (size_t i = 0; i < e.copy_paths.size() && i < top && total > 0; ++i) {
        const model::CopyPath& p = e.copy_paths[i];
        double share = 100.0 * static_cast<double>(p.copied_bytes) / static_cast<double>(total);
        lines.push_back(fmt::format("{:.0f}% {}, by the {}", share, copy_path_text(p),
                                    p.side == wire::CopySide::kParent ? "parent" : "child"));
    }
    return lines;
}

}  // namespace cowtrace::report

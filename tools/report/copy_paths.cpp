#include "copy_paths.hpp"

#include <fmt/format.h>

#include <algorithm>
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

std::vector<std::string> copy_path_lines(const model::ForkEpisode& e) {
    uint64_t total = 0;
    for (const auto& p : e.copy_paths()) total += p.copied_bytes;
    if (total == 0) return {};
    // Paths that differ only below the two frames shown read the same: one line, their sum.
    struct Line {
        std::string text;
        uint64_t bytes = 0;
    };
    std::vector<Line> merged;
    for (const model::CopyPath& p : e.copy_paths()) {
        std::string text = copy_path_text(p) + ", by the " +
                           (p.side == wire::CopySide::kParent ? "parent" : "child");
        auto same = std::find_if(merged.begin(), merged.end(),
                                 [&text](const Line& l) { return l.text == text; });
        if (same == merged.end()) {
            merged.push_back({std::move(text), p.copied_bytes});
        } else {
            same->bytes += p.copied_bytes;
        }
    }
    std::stable_sort(merged.begin(), merged.end(),
                     [](const Line& a, const Line& b) { return a.bytes > b.bytes; });
    std::vector<std::string> lines;
    for (const Line& l : merged) {
        double share = 100.0 * static_cast<double>(l.bytes) / static_cast<double>(total);
        lines.push_back(fmt::format("{:.0f}% {}", share, l.text));
    }
    return lines;
}

std::vector<std::string> top_copy_paths(const model::ForkEpisode& e, size_t top) {
    std::vector<std::string> lines = copy_path_lines(e);
    if (lines.size() > top) lines.resize(top);
    return lines;
}

}  // namespace cowtrace::report

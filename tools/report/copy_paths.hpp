// Words for the call paths behind an episode's copies (model::CopyPath): the text report, the
// HTML page and check's failure messages name them the same way.
#pragma once

#include <string>
#include <vector>

#include "model/process_tree.hpp"

namespace cowtrace::report {

// Whether a frame is a copy primitive (libc's mem*/str* family): the leaf of most copies, which
// says nothing of who asked for them.
bool is_copy_primitive(const std::string& frame);

// "hot_writer (split_writer.c:27) ← write_split (split_writer.c:40)": the first frame that is
// not a copy primitive and its caller (the whole path when it is only primitives).
std::string copy_path_text(const model::CopyPath& path);

// "70% hot_writer (split_writer.c:27) ← write_split (split_writer.c:40), by the parent": one per
// line as it reads (call paths that differ only below the two frames named are one line, their
// shares added), the largest first.
std::vector<std::string> copy_path_lines(const model::ForkEpisode& e);
// The first `top` of copy_path_lines.
std::vector<std::string> top_copy_paths(const model::ForkEpisode& e, size_t top);

}  // namespace cowtrace::report

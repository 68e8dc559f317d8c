// One self-contained HTML file: the page draws the tree (alike siblings folded), timelines of the
// costliest episodes' copied and shared bytes, per-region tables and fork call sites from compact
// data embedded as JSON (html_page_data.hpp), building only what is shown. Inline
// style and script only, and a Content-Security-Policy that forbids every network request, so it
// works offline and can be mailed or attached to a CI run.
#pragma once

#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "model/process_tree.hpp"

namespace cowtrace::report {

void write_html(const model::ProcessTree& tree, std::ostream& out);

// JSON text that is safe inside <script type="application/json">: every '<' is written \u003c,
// so neither "</script>" nor "<!--" in a command line can end or alter the element.
std::string json_for_script_element(const nlohmann::json& data);

}  // namespace cowtrace::report

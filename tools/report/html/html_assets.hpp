// The HTML report's page skeleton, style sheet and script, embedded at build time from the
// files beside this header (see embed_assets.cmake).
#pragma once

#include <string_view>

namespace cowtrace::report::html_assets {

extern const std::string_view kPage;  // report.html, with <!--COWTRACE_…--> / /*COWTRACE_…*/ slots
extern const std::string_view kStyle;   // report.css
extern const std::string_view kScript;  // report.js

}  // namespace cowtrace::report::html_assets

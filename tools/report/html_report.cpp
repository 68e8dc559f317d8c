#include "html_report.hpp"

#include <string_view>
#include <utility>
#include <vector>

#include "html_assets.hpp"
#include "html_page_data.hpp"
#include "process_labels.hpp"

namespace cowtrace::report {

namespace {

using nlohmann::json;

std::string html_escaped(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// Copies the page, replacing each slot marker with its text. Only the page is searched for
// markers, never the inserted text (a command line may contain anything).
void fill_page(std::string_view page,
               const std::vector<std::pair<std::string_view, std::string_view>>& slots,
               std::ostream& out) {
    size_t pos = 0;
    while (pos < page.size()) {
        size_t best = std::string_view::npos;
        const std::pair<std::string_view, std::string_view>* slot = nullptr;
        for (const auto& s : slots) {
            size_t at = page.find(s.first, pos);
            if (at < best) {
                best = at;
                slot = &s;
            }
        }
        if (slot == nullptr) {
            out << page.substr(pos);
            return;
        }
        out << page.substr(pos, best - pos) << slot->second;
        pos = best + slot->first.size();
    }
}

}  // namespace

std::string json_for_script_element(const json& data) {
    std::string text = data.dump(-1, ' ', false, json::error_handler_t::replace);
    std::string out;
    out.reserve(text.size() + 64);
    // '<' can only occur inside JSON strings, where \u003c means the same character.
    for (char c : text) {
        if (c == '<')
            out += "\\u003c";
        else
            out += c;
    }
    return out;
}

void write_html(const model::ProcessTree& tree, std::ostream& out) {
    std::string command = command_text(tree.command);
    std::string shown =
        html_escaped(!command.empty() ? command
                     : tree.attached  ? "(attached to pid " + std::to_string(tree.root_pid) + ")"
                                      : std::string("(record mode)"));
    std::string title = "cowtrace — " + shown;
    std::string data = json_for_script_element(html_page_data(tree));
    fill_page(html_assets::kPage,
              {{"<!--COWTRACE_TITLE-->", title},
               {"<!--COWTRACE_COMMAND-->", shown},
               {"/*COWTRACE_STYLE*/", html_assets::kStyle},
               {"<!--COWTRACE_DATA-->", data},
               {"/*COWTRACE_SCRIPT*/", html_assets::kScript}},
              out);
}

}  // namespace cowtrace::report

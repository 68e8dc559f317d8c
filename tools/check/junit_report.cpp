#include "junit_report.hpp"

#include <fmt/format.h>

namespace cowtrace::check {

namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at s[i], or 0.
size_t utf8_length(const std::string& s, size_t i) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
    }
    if (n == 2 && c < 0xC2) return 0;                          // overlong
    if (n == 3 && c == 0xE0 && byte(i + 1) < 0xA0) return 0;   // overlong
    if (n == 3 && c == 0xED && byte(i + 1) >= 0xA0) return 0;  // surrogates
    if (n == 4 && c == 0xF0 && byte(i + 1) < 0x90) return 0;   // overlong
    if (n == 4 && (c > 0xF4 || (c == 0xF4 && byte(i + 1) >= 0x90))) return 0;
    return n;
}

std::string testcase(const BudgetResult& r) {
    std::string head =
        fmt::format("    <testcase classname=\"cowtrace.budgets\" name=\"{}\" time=\"0\">\n",
                    xml_escaped(r.name));
    if (!r.failed())
        return head + fmt::format("      <system-out>{}</system-out>\n    </testcase>\n",
                                  xml_escaped(r.summary));
    std::string message = r.option() + ": " + r.summary;
    std::string body = message;
    for (const auto& o : r.offenders) body += "\n    " + o;
    const char* element = r.verdict == Verdict::kExceeded ? "failure" : "error";
    const char* type = r.verdict == Verdict::kNotMeasured       ? "NotMeasured"
                       : r.verdict == Verdict::kTraceIncomplete ? "IncompleteTrace"
                                                                : "BudgetExceeded";
    return head +
           fmt::format("      <{0} message=\"{1}\" type=\"{2}\">{3}</{0}>\n    </testcase>\n",
                       element, xml_escaped(message), type, xml_escaped(body));
}

}  // namespace

std::string xml_escaped(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        size_t n = utf8_length(text, i);
        if (n == 0) {
            out += kReplacement;
            ++i;
            continue;
        }
        char c = text[i];
        if (n == 1) {
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
                    out += "&apos;";
                    break;
                case '\t':
                    out += "&#9;";
                    break;
                case '\n':
                    out += "&#10;";
                    break;
                case '\r':
                    out += "&#13;";
                    break;
                default:
                    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                        out += kReplacement;
                    else
                        out += c;
            }
        } else {
            out.append(text, i, n);
        }
        i += n;
    }
    return out;
}

void write_junit(const std::vector<BudgetResult>& results, const JunitContext& context,
                 std::ostream& out) {
    size_t failures = 0, errors = 0;
    for (const auto& r : results) {
        if (r.verdict == Verdict::kExceeded) ++failures;
        if (r.verdict == Verdict::kNotMeasured || r.verdict == Verdict::kTraceIncomplete) ++errors;
    }
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out << fmt::format(
        "<testsuites name=\"cowtrace\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        results.size(), failures, errors);
    out << fmt::format(
        "  <testsuite name=\"cowtrace budgets\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
        "skipped=\"0\""
        " hostname=\"{}\">\n",
        results.size(), failures, errors, xml_escaped(context.host));
    out << "    <properties>\n";
    out << fmt::format("      <property name=\"trace\" value=\"{}\"/>\n",
                       xml_escaped(context.trace_path));
    out << fmt::format("      <property name=\"command\" value=\"{}\"/>\n",
                       xml_escaped(context.command));
    if (!context.baseline_path.empty()) {
        out << fmt::format("      <property name=\"baseline\" value=\"{}\"/>\n",
                           xml_escaped(context.baseline_path));
    }
    out << "    </properties>\n";
    for (const auto& r : results) out << testcase(r);
    out << "  </testsuite>\n</testsuites>\n";
}

}  // namespace cowtrace::check

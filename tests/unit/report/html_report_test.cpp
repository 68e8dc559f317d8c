#include "report/html_report.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "tree_fixture.hpp"

namespace cowtrace::report {
namespace {

using testing::kMiB;
using testing::kMs;
using testing::TreeFixture;

std::string html_of(const model::ProcessTree& tree) {
    std::ostringstream out;
    write_html(tree, out);
    return out.str();
}

// The text between <script type="application/json" id="cowtrace-data"> and the next </script>.
std::string embedded_data(const std::string& html) {
    const std::string open = "<script type=\"application/json\" id=\"cowtrace-data\">";
    size_t start = html.find(open);
    if (start == std::string::npos) return {};
    start += open.size();
    return html.substr(start, html.find("</script>", start) - start);
}

TEST(HtmlReport, EmbeddedDataIsTheModelAndSurvivesMarkupInCommandLines) {
    TreeFixture f;
    size_t root = f.root(100, {"sh", "-c", "echo </script><!-- <script>x</script>"});
    size_t c = f.child(root, 101, 10 * kMs, 20 * kMs);
    f.episode(c, 8 * kMiB, 4096, 4096);
    std::string html = html_of(f.tree);
    std::string data = embedded_data(html);
    ASSERT_FALSE(data.empty());
    EXPECT_EQ(data.find('<'), std::string::npos);
    nlohmann::json parsed = nlohmann::json::parse(data);
    EXPECT_EQ(parsed, html_report_data(f.tree));
    EXPECT_EQ(parsed["trace"]["command"][2], "echo </script><!-- <script>x</script>");
    EXPECT_EQ(parsed["call_sites"].size(), 1u);
}

TEST(HtmlReport, EverySlotIsFilledAndTheTitleIsEscaped) {
    TreeFixture f;
    f.root(100, {"a<b", "&", "\"c\""});
    std::string html = html_of(f.tree);
    EXPECT_EQ(html.find("COWTRACE_"), std::string::npos);
    // Quoted as a shell would need it (an empty or odd argument keeps its place), then escaped.
    EXPECT_NE(
        html.find(
            "<title>cowtrace — &#39;a&lt;b&#39; &#39;&amp;&#39; &#39;&quot;c&quot;&#39;</title>"),
        std::string::npos);
    EXPECT_NE(
        html.find(
            "content=\"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
            "img-src data:\""),
        std::string::npos);
}

TEST(HtmlReport, ScriptElementJsonEscapesEveryLessThanSign) {
    nlohmann::json j = {{"a", "</script>"}, {"b", "<!--"}, {"c", "\xff"}};
    std::string text = json_for_script_element(j);
    EXPECT_EQ(text.find('<'), std::string::npos);
    EXPECT_EQ(nlohmann::json::parse(text)["a"], "</script>");
}

}  // namespace
}  // namespace cowtrace::report

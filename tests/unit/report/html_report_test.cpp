#include "report/html_report.hpp"

#include "report/html_page_data.hpp"

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

TEST(HtmlReport, EmbeddedDataIsThePageDataAndSurvivesMarkupInCommandLines) {
    TreeFixture f;
    size_t root = f.root(100, {"sh", "-c", "echo </script><!-- <script>x</script>"});
    size_t c = f.child(root, 101, 10 * kMs, 20 * kMs);
    f.episode(c, 8 * kMiB, 4096, 4096);
    std::string html = html_of(f.tree);
    std::string data = embedded_data(html);
    ASSERT_FALSE(data.empty());
    EXPECT_EQ(data.find('<'), std::string::npos);
    nlohmann::json parsed = nlohmann::json::parse(data);
    EXPECT_EQ(parsed, html_page_data(f.tree));
    EXPECT_EQ(parsed["trace"]["command_line"], "sh -c 'echo </script><!-- <script>x</script>'");
    EXPECT_EQ(parsed["call_sites"].size(), 1u);
}

// The root forks `n` alike children one after the other, each copying a little.
TreeFixture loop_of(int n) {
    TreeFixture f;
    size_t root = f.root(100, {"bash", "-c", "for i in $(seq 10000); do /bin/true; done"});
    for (int k = 0; k < n; ++k) {
        uint64_t t = 10 * kMs + static_cast<uint64_t>(k) * 100'000;
        size_t c = f.child(root, 1000 + k, t, t + 50'000);
        model::ExecEvent exec;
        exec.t_ns = t + 10'000;
        exec.path = "/bin/true";
        exec.argv = {"/bin/true"};
        exec.ok = true;
        f.exec(c, exec);
        f.episode(c, 2 * kMiB, 4096 * static_cast<uint64_t>(1 + k % 5), 4096);
    }
    return f;
}

TEST(HtmlReport, TenThousandAlikeChildrenAreOneFoldedGroupNotTenThousandRows) {
    TreeFixture f = loop_of(10000);
    nlohmann::json data = html_page_data(f.tree);
    const nlohmann::json& nodes = data["nodes"];
    ASSERT_EQ(nodes["pid"].size(), 2u);  // the root and one group
    EXPECT_EQ(nodes["parent"][1], 0);
    ASSERT_EQ(data["groups"].size(), 1u);
    const nlohmann::json& g = data["groups"][0];
    EXPECT_EQ(g["count"], 10000);
    EXPECT_EQ(data["strings"][nodes["name"][1].get<size_t>()], "true");
    EXPECT_EQ(g["pids"], nlohmann::json::array({1000, 10999}));  // one run of consecutive pids
    EXPECT_EQ(g["copied"][0], 4096);                             // min
    EXPECT_EQ(g["copied"][1], 3 * 4096);                         // median
    EXPECT_EQ(g["copied"][2], 5 * 4096);                         // max
    EXPECT_EQ(g["copied"][3], 10000);
    // Compact: well under a hundred bytes a process.
    EXPECT_LT(json_for_script_element(data).size(), 10000u * 100);
}

TEST(HtmlReport, TheCostliestEpisodesAreChartedAndTheRestSummedIntoOneSeries) {
    TreeFixture f;
    size_t root = f.root(100, {"server"});
    // 60 children, each its own program, alive together from 100 ms to 900 ms, child k copying
    // (k+1) MiB.
    for (int k = 0; k < 60; ++k) {
        size_t c = f.child(root, 200 + k, 100 * kMs, 900 * kMs);
        f.tree.processes[c].argv = {"worker" + std::to_string(k)};
        f.episode(c, 128 * kMiB, static_cast<uint64_t>(k + 1) * kMiB,
                  static_cast<uint64_t>(k + 1) * kMiB);
    }
    nlohmann::json data = html_page_data(f.tree);
    ASSERT_EQ(data["episodes"].size(), kDetailedEpisodes);
    EXPECT_EQ(data["episodes"][0]["pid"], 259);  // the costliest first
    EXPECT_EQ(data["episodes"][0]["peak"], 60 * kMiB);
    size_t with_samples = 0;
    for (const auto& e : data["episodes"]) with_samples += e.contains("samples") ? 1 : 0;
    EXPECT_EQ(with_samples, kChartedEpisodes);
    EXPECT_EQ(data["episodes_more"]["count"], 60 - kDetailedEpisodes);
    EXPECT_EQ(data["chart"]["others"], 60 - kChartedEpisodes);
    // The others' copies, all held at the same time: 1 + 2 + … + 48 MiB.
    uint64_t highest = 0;
    const nlohmann::json& others = data["chart"]["others_copied"];
    for (size_t i = 1; i < others.size(); i += 2)
        highest = std::max(highest, others[i].get<uint64_t>());
    EXPECT_EQ(highest, 48 * 49 / 2 * kMiB);
    EXPECT_EQ(data["summary"]["copied_bytes_peak_concurrent"], 60 * 61 / 2 * kMiB);
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

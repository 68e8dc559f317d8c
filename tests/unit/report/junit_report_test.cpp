#include "check/junit_report.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace cowtrace::check {
namespace {

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

TEST(JunitReport, EscapesMarkupAndReplacesWhatXmlCannotHold) {
    EXPECT_EQ(xml_escaped("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
    EXPECT_EQ(xml_escaped("tab\there\nnext"), "tab&#9;here&#10;next");
    EXPECT_EQ(xml_escaped(std::string("bell\x07", 5)), "bell\xEF\xBF\xBD");
    EXPECT_EQ(xml_escaped("\xff\xfe"), "\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(xml_escaped("\xc3\xa9t\xc3\xa9 ← ok"), "\xc3\xa9t\xc3\xa9 ← ok");
    EXPECT_EQ(xml_escaped("\xe2\x86"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "a cut sequence";
    EXPECT_EQ(xml_escaped("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "a surrogate";
}

TEST(JunitReport, OneTestcasePerBudgetWithFailureOrError) {
    std::vector<BudgetResult> results = {
        {"max-cow",
         "4.0 MiB",
         Verdict::kExceeded,
         "limited <4 MiB>",
         {"pid 1 `x`"},
         kExitCowBudget},
        {"max-rss", "1.0 GiB", Verdict::kMet, "fine", {}, kExitMemoryBudget},
        {"max-tree-pss",
         "1.0 GiB",
         Verdict::kNotMeasured,
         "cannot be checked",
         {},
         kExitMemoryBudget},
    };
    std::ostringstream out;
    write_junit(results, {"t.trace", "cmd", "host"}, out);
    std::string xml = out.str();
    EXPECT_EQ(count(xml, "<testcase "), 3u);
    EXPECT_EQ(count(xml, "<failure "), 1u);
    EXPECT_EQ(count(xml, "<error "), 1u);
    EXPECT_NE(xml.find("tests=\"3\" failures=\"1\" errors=\"1\""), std::string::npos) << xml;
    EXPECT_NE(xml.find("message=\"--max-cow 4.0 MiB: limited &lt;4 MiB&gt;\""), std::string::npos)
        << xml;
    EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0), 0u);
}

}  // namespace
}  // namespace cowtrace::check

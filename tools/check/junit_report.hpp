// Budget results as JUnit XML, which CI systems (GitLab, Jenkins, GitHub test reporters) show
// as test results: one testsuite, a testcase per budget, <failure> for a budget exceeded and
// <error> for one the trace could not measure.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "budgets.hpp"

namespace cowtrace::check {

struct JunitContext {
    std::string trace_path;
    std::string command;
    std::string host;
    std::string baseline_path;  // the trace growth budgets compared with (--baseline), if any
};

void write_junit(const std::vector<BudgetResult>& results, const JunitContext& context,
                 std::ostream& out);

// Text made safe for an XML attribute or element: markup escaped, characters XML 1.0 forbids
// (most control characters) and bytes that are not UTF-8 replaced by U+FFFD.
std::string xml_escaped(const std::string& text);

}  // namespace cowtrace::check

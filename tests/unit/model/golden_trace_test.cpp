// Old traces keep reading: a trace written by cowtrace before the record schema existed
// (tests/golden/v1-spawners-and-cow.trace, recorded from tests/golden/v1-spawners-and-cow.sh)
// builds the same tree and the same fork episodes as that version read from it
// (tests/golden/v1-spawners-and-cow.expected.json, reduced from its JSON report).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "model/tree_builder.hpp"

namespace cowtrace {
namespace {

using nlohmann::json;

const std::string kGolden = std::string(COWTRACE_SOURCE_DIR) + "/tests/golden/v1-spawners-and-cow";

json process_facts(const model::ProcessTree& tree, const model::Process& p) {
    json execs = json::array();
    for (const auto& e : tree.execs_of(p)) execs.push_back({e.path.str(), e.ok});
    json exit = nullptr;
    if (p.exit.kind == model::ExitStatus::Kind::kCode) exit = p.exit.code;
    if (p.exit.kind == model::ExitStatus::Kind::kSignal) exit = -p.exit.signal;
    json flags = json::array();
    for (model::Limitation l : model::limitations_of(tree, p))
        flags.push_back(model::limitation_id(l));
    return {{"pid", p.pid},
            {"ppid", p.ppid},
            {"how", model::create_how_name(p.how)},
            {"execs", execs},
            {"exit", exit},
            {"exit_source", p.exit.kind == model::ExitStatus::Kind::kUnknown
                                ? json(nullptr)
                                : json(model::exit_source_name(p.exit.source))},
            {"flags", flags},
            {"children", tree.children_of(p).size()},
            {"call_site_frames", p.call_site.size()},
            {"memory_samples", tree.memory_of(p).size()}};
}

json fork_facts(const model::ProcessTree& tree, const model::ForkEpisode& e) {
    const char* end = e.end == model::ForkEpisode::End::kExit   ? "exit"
                      : e.end == model::ForkEpisode::End::kExec ? "exec"
                                                                : "running";
    return {{"parent", e.parent},
            {"child", e.child},
            {"t_ns", e.t_ns},
            {"end", end},
            {"shared_bytes_at_fork", e.shared_bytes_at_fork},
            {"copied_bytes_peak", e.copied_bytes_peak},
            {"copied_bytes_final", tree.copied_bytes_final(e)},
            {"copied_by_parent_bytes", tree.copied_by_parent_bytes(e)},
            {"copied_by_child_bytes", tree.copied_by_child_bytes(e)},
            {"retained_bytes_final", tree.retained_bytes_final(e)},
            {"child_new_bytes_final", tree.child_new_bytes_final(e)},
            {"samples", tree.samples_of(e).size()},
            {"regions", tree.regions_of(e).size()}};
}

TEST(GoldenTrace, TraceFromBeforeTheSchemaBuildsTheSameTreeAndEpisodes) {
    std::ifstream expected_file(kGolden + ".expected.json");
    ASSERT_TRUE(expected_file) << kGolden << ".expected.json";
    json expected = json::parse(expected_file);

    model::ProcessTree tree;
    std::string error;
    ASSERT_TRUE(model::build_process_tree({kGolden + ".trace"}, tree, error)) << error;
    EXPECT_TRUE(tree.complete);
    EXPECT_TRUE(tree.reader_error.empty()) << tree.reader_error;
    EXPECT_EQ(tree.root_pid, expected["root_pid"].get<int>());

    ASSERT_EQ(tree.processes.size(), expected["processes"].size());
    for (size_t i = 0; i < tree.processes.size(); ++i) {
        EXPECT_EQ(process_facts(tree, tree.processes[i]), expected["processes"][i])
            << "process " << i;
    }
    ASSERT_EQ(tree.episodes.size(), expected["forks"].size());
    for (size_t i = 0; i < tree.episodes.size(); ++i) {
        EXPECT_EQ(fork_facts(tree, tree.episodes[i]), expected["forks"][i]) << "fork " << i;
    }
}

}  // namespace
}  // namespace cowtrace

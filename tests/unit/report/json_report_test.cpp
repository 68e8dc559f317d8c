// The JSON report as streamed (write_json) is the document the nlohmann tree builder makes
// (to_json, which the HTML report embeds), byte for byte as `cowtrace report --format json` wrote
// it before the stream: on a model with every optional field, on the golden trace and on the
// synthetic traces of the end-to-end tests.
#include "report/json_report.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "model/tree_builder.hpp"
#include "tree_fixture.hpp"

namespace cowtrace::report {
namespace {

using nlohmann::json;
using testing::kMiB;
using testing::kMs;
using testing::TreeFixture;

std::string streamed(const model::ProcessTree& tree) {
    std::ostringstream out;
    write_json(tree, out);
    return out.str();
}

std::string built(const model::ProcessTree& tree) {
    return to_json(tree).dump(2, ' ', false, json::error_handler_t::replace);
}

void expect_same_document(const model::ProcessTree& tree) {
    std::string got = streamed(tree);
    std::string want = built(tree);
    EXPECT_EQ(json::parse(got), json::parse(want));
    ASSERT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want) << "first difference at byte "
                             << std::mismatch(got.begin(), got.end(), want.begin()).first -
                                    got.begin();
}

// Every optional field of the report set at least once, and text that is not plain.
model::ProcessTree tree_with_every_field() {
    TreeFixture f;
    size_t root =
        f.root(100, {"/bin/server", "--name", "a\"b\\c\n\x01", "caf\xc3\xa9", "bad\xff\xc3"});
    model::ExecEvent exec;
    exec.t_ns = 1 * kMs;
    exec.path = "/usr/bin/server";
    exec.requested_path = "server";
    exec.argv = {"server", "\xe2\x82"};
    exec.argv_truncated = true;
    exec.ok = true;
    exec.image.script = true;
    exec.image.setid = true;
    exec.env_reinjected = true;
    f.exec(root, exec);
    model::ExecEvent failed;
    failed.t_ns = 2 * kMs;
    failed.path = failed.requested_path = "/missing";
    failed.ok = false;
    failed.error = ENOENT;
    f.exec(root, failed);
    f.memory(root, 10 * kMs, 64 * kMiB, 40 * kMiB);
    f.tree.processes[root].add_dropped_records(3);

    size_t worker = f.child(root, 101, 100 * kMs, 900 * kMs, {0x401000, 0x402000});
    f.tree.processes[worker].exit = {.code = 0,
                                     .signal = 9,
                                     .kind = model::ExitStatus::Kind::kSignal,
                                     .core = true,
                                     .source = model::ExitSource::kParent};
    model::ForkEpisode& e = f.episode(worker, 64 * kMiB, 32 * kMiB, 30 * kMiB);
    e.regions = f.tree.episode_regions.keep(
        {{"[heap]", 60 * kMiB, 30 * kMiB, 32 * kMiB, 10 * kMiB, 20 * kMiB},
         {"/lib/\xfflib.so", 4 * kMiB, 0, 0, 0, 0}});
    e.approximations = {"estimated \"between\" censuses"};
    std::span<const model::CowSample> kept = f.tree.samples_of(e);
    std::vector<model::CowSample> samples(kept.begin(), kept.end());
    samples.back().exact = false;
    samples.back().error_bytes = 123;
    e.samples = f.tree.episode_samples.keep(samples);
    e.set_baseline_delay_ns(42);
    f.tree.processes[e.child_index].set_first_image_minor_faults(77);
    e.under_way_at_attach = true;
    e.final_from_last_sample = true;
    e.census_cost_ns = 5000;
    e.rarities().copy_paths.push_back(
        {{"memset", "hot_writer (w.c:27)"}, wire::CopySide::kChild, 20 * kMiB, 80});
    e.rarities().copy_paths.push_back({{"cold"}, wire::CopySide::kParent, 9 * kMiB, 31});
    model::CopyAttributionFigures a;
    a.period = 31;
    a.samples = 120;
    a.copy_samples = 111;
    a.attributed_bytes = 29 * kMiB + 12345;
    e.set_attribution(f.tree.episode_attributions.keep({a}));

    size_t helper = f.child(root, 102, 200 * kMs, std::nullopt, {0x403000});
    model::ForkEpisode& unattributed = f.episode(helper, 8 * kMiB, 0, 0);
    unattributed.split_known = false;
    model::CopyAttributionFigures none;
    none.unavailable = "perf events forbidden";
    unattributed.set_attribution(f.tree.episode_attributions.keep({none}));

    size_t quick = f.child(root, 103, 300 * kMs, 301 * kMs);
    model::ForkEpisode& short_lived = f.episode(quick, 0, 0, 0);
    short_lived.census = model::ForkEpisode::Census::kShortLived;
    short_lived.end = model::ForkEpisode::End::kExec;
    short_lived.samples = {};
    f.tree.processes[quick].add_seq_gaps(2);
    f.tree.processes[quick].ppid = 0;

    f.tree.symbols[{100, 0x401000}] = "fork_worker (server.c:42)";
    f.tree.symbols[{100, 0x403000}] = "spawn\xc0";
    f.tree.symbols_inlined_into[{100, 0x401000}] = {"start_workers", "main"};
    f.tree.notes.push_back({5 * kMs, 2, "collector lost at t=5 ms"});
    f.tree.notes.push_back({0, 0, "tab\there"});
    f.tree.root_status = 9;  // killed by SIGKILL
    f.tree.reader_error = "t.trace: record at 4096 points past the end";
    f.tree.host = "h\xe9te";
    f.tree.kernel_release = "6.18";
    f.tree.kernel_events_note = "";
    f.tree.wall_t0_ns = 1'700'000'000'000'000'000ULL;
    f.tree.sampling_interval_ns = 200 * kMs;
    f.tree.interval_ns = 100 * kMs;
    return std::move(f.tree);  // the episodes' lists stay where they are
}

TEST(JsonReport, StreamedIsTheBuiltDocumentWithEveryField) {
    model::ProcessTree tree = tree_with_every_field();
    std::string got = streamed(tree);
    // The fields that are set only sometimes are there.
    for (const char* key :
         {"\"argv_truncated\"", "\"env_reinjected\"", "\"error\"", "\"image\"",
          "\"requested_path\"", "\"inlined_into\"", "\"symbol\"", "\"memory\"",
          "\"records_missing\"", "\"core_dumped\"", "\"coverage\": 0.967", "\xef\xbf\xbd"}) {
        EXPECT_NE(got.find(key), std::string::npos) << key;
    }
    expect_same_document(tree);
}

TEST(JsonReport, StreamedIsTheBuiltDocumentForAnEmptyTree) {
    model::ProcessTree tree;
    expect_same_document(tree);
    tree.root_status = 0;
    expect_same_document(tree);
}

TEST(JsonReport, StreamedIsTheBuiltDocumentForTheGoldenTrace) {
    model::ProcessTree tree;
    std::string error;
    ASSERT_TRUE(model::build_process_tree(
        {std::string(COWTRACE_SOURCE_DIR) + "/tests/golden/v1-spawners-and-cow.trace"}, tree,
        error))
        << error;
    ASSERT_GT(tree.processes.size(), 5u);
    expect_same_document(tree);
}

// The end-to-end tests' synthetic traces (tests/e2e/reports/synthetic_trace.cpp).
class SyntheticTrace : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(SyntheticTrace, StreamedIsTheBuiltDocument) {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("cowtrace-json-report-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::string trace = (dir / "t.trace").string(), truth = (dir / "truth.json").string();
    std::vector<std::string> args = {SYNTHETIC_TRACE, GetParam()[0], trace, truth};
    args.insert(args.end(), GetParam().begin() + 1, GetParam().end());
    std::string command;
    for (const auto& a : args) command += "'" + a + "' ";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    model::ProcessTree tree;
    std::string error;
    ASSERT_TRUE(model::build_process_tree({trace}, tree, error)) << error;
    std::filesystem::remove_all(dir);
    ASSERT_GT(tree.processes.size(), 1u);
    expect_same_document(tree);
}

INSTANTIATE_TEST_SUITE_P(Scenarios, SyntheticTrace,
                         ::testing::Values(std::vector<std::string>{"fork-server"},
                                           std::vector<std::string>{"no-census"},
                                           std::vector<std::string>{"leftover"},
                                           std::vector<std::string>{"many-processes", "300"}),
                         [](const auto& info) {
                             std::string name = info.param[0];
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

}  // namespace
}  // namespace cowtrace::report

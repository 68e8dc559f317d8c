// SourceSymbolizer against a fixture built with -g -O2 (source_fixture/): the program prints where
// its probes' return addresses are (file and offset), and the expected lines are found by their
// MARKER comments in the fixture's sources, so an edit of the fixture moves both together.
#include "collector/source_symbolizer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "core/proc_maps.hpp"

namespace symbolizer_test {
// A C++ function with external linkage: its name comes demangled, qualified, with parameters.
__attribute__((noinline)) uint64_t return_address_in_named_caller(int);
}  // namespace symbolizer_test

namespace cowtrace::collector {
namespace {

namespace fs = std::filesystem;

struct Probe {
    std::string path;
    uint64_t file_offset = 0;
};

// name → probe, from one run of the fixture.
const std::map<std::string, Probe>& probes() {
    static const std::map<std::string, Probe> found = [] {
        std::map<std::string, Probe> out;
        FILE* run = popen(COWTRACE_SOURCE_FIXTURE, "r");
        if (run == nullptr) return out;
        char line[4352];
        while (fgets(line, sizeof line, run) != nullptr) {
            std::istringstream in(line);
            std::string name;
            Probe p;
            if (in >> name >> p.path >> p.file_offset) out[name] = p;
        }
        pclose(run);
        return out;
    }();
    return found;
}

Probe probe(const std::string& name) {
    auto it = probes().find(name);
    if (it == probes().end()) ADD_FAILURE() << "the fixture printed no probe " << name;
    return it == probes().end() ? Probe{} : it->second;
}

// The line of the fixture source holding "MARKER:<marker> ".
int marker_line(const std::string& source, const std::string& marker) {
    std::ifstream in(std::string(COWTRACE_SOURCE_FIXTURE_SOURCES) + "/" + source);
    std::string text;
    for (int n = 1; std::getline(in, text); ++n) {
        if (text.find("MARKER:" + marker + " ") != std::string::npos) return n;
    }
    ADD_FAILURE() << "no MARKER:" << marker << " in " << source;
    return -1;
}

std::string base_name(const std::string& path) {
    return fs::path(path).filename().string();
}

fs::path scratch_dir() {
    fs::path dir =
        fs::temp_directory_path() / ("cowtrace-source-symbolizer-" + std::to_string(getpid()));
    fs::create_directories(dir);
    return dir;
}

TEST(SourceSymbolizer, AFunctionIsNamedWithItsFileAndLine) {
    Probe p = probe("known_call");
    SourceSymbolizer s;
    std::vector<SourceFrame> frames = s.frames_at(p.path, p.file_offset, true);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].function, "known_function");
    EXPECT_EQ(base_name(frames[0].file), "source_fixture.c");
    EXPECT_EQ(frames[0].line, marker_line("source_fixture.c", "known_call"));
    EXPECT_FALSE(frames[0].inlined);
    EXPECT_EQ(frames[0].module, "source_fixture");
    EXPECT_EQ(SourceSymbolizer::describe(frames[0], p.file_offset),
              "known_function (source_fixture.c:" +
                  std::to_string(marker_line("source_fixture.c", "known_call")) + ")");
}

TEST(SourceSymbolizer, AnInlinedCalleeComesFirstThenTheFunctionItWasInlinedInto) {
    Probe p = probe("inlined_call");
    SourceSymbolizer s;
    std::vector<SourceFrame> frames = s.frames_at(p.path, p.file_offset, true);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].function, "inlined_callee");
    EXPECT_EQ(base_name(frames[0].file), "source_fixture.c");
    EXPECT_EQ(frames[0].line, marker_line("source_fixture.c", "inlined_call"));
    EXPECT_TRUE(frames[0].inlined);
    EXPECT_EQ(frames[1].function, "inlining_function");
    EXPECT_EQ(base_name(frames[1].file), "source_fixture.c");
    EXPECT_EQ(frames[1].line, marker_line("source_fixture.c", "inlined_site"));
    EXPECT_FALSE(frames[1].inlined);
    EXPECT_EQ(frames[1].module, "source_fixture");
}

TEST(SourceSymbolizer, EveryLevelOfNestedInliningIsAFrameAtItsCallLine) {
    Probe p = probe("nested_call");
    SourceSymbolizer s;
    std::vector<SourceFrame> frames = s.frames_at(p.path, p.file_offset, true);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].function, "inlined_callee");
    EXPECT_EQ(frames[0].line, marker_line("source_fixture.c", "inlined_call"));
    EXPECT_TRUE(frames[0].inlined);
    EXPECT_EQ(frames[1].function, "inlined_middle");
    EXPECT_EQ(frames[1].line, marker_line("source_fixture.c", "nested_middle"));
    EXPECT_TRUE(frames[1].inlined);
    EXPECT_EQ(frames[2].function, "nested_inlining_function");
    EXPECT_EQ(frames[2].line, marker_line("source_fixture.c", "nested_site"));
    EXPECT_FALSE(frames[2].inlined);
}

TEST(SourceSymbolizer, WithoutAddressRangeTablesTheUnitsOwnRangesFindTheLine) {
    Probe p = probe("inlined_call");
    SourceSymbolizer s;
    std::vector<SourceFrame> frames =
        s.frames_at(std::string(COWTRACE_SOURCE_FIXTURE) + ".no-aranges", p.file_offset, true);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].function, "inlined_callee");
    EXPECT_EQ(frames[0].line, marker_line("source_fixture.c", "inlined_call"));
    EXPECT_EQ(frames[1].function, "inlining_function");
    EXPECT_EQ(frames[1].line, marker_line("source_fixture.c", "inlined_site"));
}

TEST(SourceSymbolizer, AFunctionInASharedObjectIsNamedWithItsLine) {
    Probe p = probe("library_call");
    EXPECT_EQ(fs::canonical(p.path), fs::canonical(COWTRACE_SOURCE_FIXTURE_LIBRARY));
    SourceSymbolizer s;
    std::vector<SourceFrame> frames = s.frames_at(p.path, p.file_offset, true);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].function, "library_probe");
    EXPECT_EQ(base_name(frames[0].file), "source_library.c");
    EXPECT_EQ(frames[0].line, marker_line("source_library.c", "library_call"));
    EXPECT_EQ(frames[0].module, base_name(COWTRACE_SOURCE_FIXTURE_LIBRARY));
}

TEST(SourceSymbolizer, WithoutDebugInformationTheSymbolTableNamesTheFunction) {
    Probe p = probe("known_call");  // strip leaves the loaded segments where they were
    SourceSymbolizer s;
    std::vector<SourceFrame> frames =
        s.frames_at(std::string(COWTRACE_SOURCE_FIXTURE) + ".symbols-only", p.file_offset, true);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].function, "known_function");
    EXPECT_EQ(frames[0].file, "");
    EXPECT_EQ(frames[0].line, 0);
    EXPECT_EQ(SourceSymbolizer::describe(frames[0], p.file_offset), "known_function");
}

TEST(SourceSymbolizer, DebugInformationNamedByDebuglinkInDotDebugBesideTheFileGivesTheLine) {
    Probe p = probe("known_call");
    SourceSymbolizer s;
    std::vector<SourceFrame> frames =
        s.frames_at(std::string(COWTRACE_SOURCE_FIXTURE_DIR) + "/debuglink/source_fixture",
                    p.file_offset, true);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].function, "known_function");
    EXPECT_EQ(base_name(frames[0].file), "source_fixture.c");
    EXPECT_EQ(frames[0].line, marker_line("source_fixture.c", "known_call"));
}

TEST(SourceSymbolizer, ADebuglinkFileOfAnotherBuildIsNotUsed) {
    Probe p = probe("known_call");
    SourceSymbolizer s;
    std::vector<SourceFrame> frames =
        s.frames_at(std::string(COWTRACE_SOURCE_FIXTURE_DIR) + "/stale-debuglink/source_fixture",
                    p.file_offset, true);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].function, "known_function") << "named from its own symbol table";
    EXPECT_EQ(frames[0].file, "");
    EXPECT_EQ(frames[0].line, 0);
}

TEST(SourceSymbolizer, AStrippedSharedObjectIsNamedFromItsDynamicSymbols) {
    Probe p = probe("library_call");
    SourceSymbolizer s;
    std::vector<SourceFrame> frames = s.frames_at(
        std::string(COWTRACE_SOURCE_FIXTURE_LIBRARY) + ".stripped", p.file_offset, true);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].function, "library_probe");
    EXPECT_EQ(frames[0].file, "");
    EXPECT_EQ(frames[0].line, 0);
}

TEST(SourceSymbolizer, ACppFunctionIsDemangled) {
    uint64_t ip = symbolizer_test::return_address_in_named_caller(1);
    std::vector<Mapping> maps;
    ASSERT_TRUE(read_maps(getpid(), maps));
    const Mapping* m = nullptr;
    for (const Mapping& candidate : maps) {
        if (ip >= candidate.start && ip < candidate.end) m = &candidate;
    }
    ASSERT_NE(m, nullptr);
    SourceSymbolizer s;
    std::vector<SourceFrame> frames = s.frames_at(m->path, ip - m->start + m->offset, true);
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames.back().function, "symbolizer_test::return_address_in_named_caller(int)");
    EXPECT_EQ(base_name(frames.back().file), "source_symbolizer_test.cpp");
}

TEST(SourceSymbolizer, ANonElfFileGivesOneUnknownFrame) {
    fs::path text = scratch_dir() / "not-elf.txt";
    std::ofstream(text) << std::string(8192, 'x');
    SourceSymbolizer s;
    std::vector<SourceFrame> frames = s.frames_at(text.string(), 0x1a2b, true);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].function, "");
    EXPECT_EQ(frames[0].module, "not-elf.txt");
    EXPECT_EQ(SourceSymbolizer::describe(frames[0], 0x1a2b), "not-elf.txt+0x1a2b");
    fs::remove_all(text.parent_path());
}

TEST(SourceSymbolizer, AMissingFileOrAnOffsetOutsideTheFileGivesOneUnknownFrame) {
    SourceSymbolizer s;
    std::vector<SourceFrame> missing = s.frames_at("/nonexistent/libgone.so", 0x40, false);
    ASSERT_EQ(missing.size(), 1u);
    EXPECT_EQ(missing[0].function, "");
    EXPECT_EQ(missing[0].module, "libgone.so");
    std::vector<SourceFrame> outside = s.frames_at(COWTRACE_SOURCE_FIXTURE, 1ull << 40, false);
    ASSERT_EQ(outside.size(), 1u);
    EXPECT_EQ(outside[0].function, "");
}

// A file cut anywhere (a copy interrupted, a package half-written) is read without trusting it:
// no crash, and no name for code the cut copy no longer holds.
TEST(SourceSymbolizer, ATruncatedCopyOfARealBinaryNeverCrashes) {
    Probe p = probe("inlined_call");
    std::ifstream in(COWTRACE_SOURCE_FIXTURE, std::ios::binary);
    std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(whole.size(), 4096u);
    fs::path dir = scratch_dir();
    size_t cuts = 0;
    for (size_t size :
         {size_t{0}, size_t{16}, size_t{64}, size_t{100}, size_t{1024}, size_t(p.file_offset),
          whole.size() / 4, whole.size() / 2, whole.size() * 3 / 4, whole.size() - 1}) {
        fs::path cut = dir / ("cut-" + std::to_string(size));
        std::ofstream(cut, std::ios::binary)
            .write(whole.data(), static_cast<std::streamsize>(size));
        SourceSymbolizer s;
        std::vector<SourceFrame> frames = s.frames_at(cut.string(), p.file_offset, true);
        ASSERT_FALSE(frames.empty()) << size;
        EXPECT_EQ(frames.back().module, cut.filename().string());
        if (size <= p.file_offset) {
            EXPECT_EQ(frames[0].function, "") << size;
        }
        ++cuts;
    }
    EXPECT_EQ(cuts, 10u);
    fs::remove_all(dir);
}

TEST(SourceSymbolizer, DescribeSaysWhatIsKnown) {
    SourceFrame f;
    f.module = "libx.so";
    EXPECT_EQ(SourceSymbolizer::describe(f, 0x1a2b), "libx.so+0x1a2b");
    f.function = "run";
    EXPECT_EQ(SourceSymbolizer::describe(f, 0x1a2b), "run");
    f.file = "/src/x/run.c";
    f.line = 12;
    EXPECT_EQ(SourceSymbolizer::describe(f, 0x1a2b), "run (run.c:12)");
}

TEST(SourceSymbolizer, ASecondLookupInTheSameFileGivesTheSameFrames) {
    Probe p = probe("inlined_call");
    SourceSymbolizer s;
    std::vector<SourceFrame> first = s.frames_at(p.path, p.file_offset, true);
    std::vector<SourceFrame> again = s.frames_at(p.path, p.file_offset, true);
    ASSERT_EQ(first.size(), again.size());
    for (size_t i = 0; i < first.size(); ++i) {
        EXPECT_EQ(first[i].function, again[i].function);
        EXPECT_EQ(first[i].line, again[i].line);
    }
}

}  // namespace
}  // namespace cowtrace::collector

namespace symbolizer_test {
static uint64_t volatile sink;
__attribute__((noinline)) static uint64_t return_address() {
    return reinterpret_cast<uint64_t>(__builtin_return_address(0));
}
uint64_t return_address_in_named_caller(int x) {
    uint64_t ip = return_address();
    sink = static_cast<uint64_t>(x);  // the call above is no tail call
    return ip;
}
}  // namespace symbolizer_test

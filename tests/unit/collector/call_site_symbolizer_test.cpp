// Call sites are named from the mappings of the image that captured them, never from a later
// image of the same pid (a record can reach the collector after its sender exec'd).
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "collector/call_site_symbolizer.hpp"

namespace cowtrace::collector {
namespace {

// A function of this test program, so the address is in our own executable's mappings.
__attribute__((noinline)) uint64_t a_return_address() {
    return reinterpret_cast<uint64_t>(__builtin_return_address(0));
}

std::string name_of(CallSiteSymbolizer& s, pid_t pid, uint64_t ip) {
    for (const CallSiteSymbolizer::Resolved& r : s.resolve()) {
        if (r.pid == pid && r.address == ip && !r.frames.empty()) return r.frames.front();
    }
    return "";
}

TEST(CallSiteSymbolizer, FramesOfTheCurrentImageAreNamed) {
    uint64_t ip = a_return_address();
    CallSiteSymbolizer s;
    s.image_started(getpid(), 1000);
    s.note(getpid(), {ip}, 2000);
    std::string name = name_of(s, getpid(), ip);
    EXPECT_NE(name.find("FramesOfTheCurrentImageAreNamed"), std::string::npos) << name;
}

TEST(CallSiteSymbolizer, FramesOfAnImageThatIsGoneAreNamedFromItsOwnMappings) {
    uint64_t ip = a_return_address();
    CallSiteSymbolizer s;
    s.image_started(getpid(), 1000);  // this image: its mappings are read now
    s.image_started(getpid(), 3000);  // "exec'd": the next image (here, the same mappings)
    s.note(getpid(), {ip}, 2000);     // a record the first image sent before the exec
    std::string name = name_of(s, getpid(), ip);
    EXPECT_NE(name.find("FramesOfAnImageThatIsGoneAreNamedFromItsOwnMappings"), std::string::npos)
        << name;
}

TEST(CallSiteSymbolizer, FramesSentBeforeAnyKnownImageAreLeftUnnamed) {
    uint64_t ip = a_return_address();
    CallSiteSymbolizer s;
    s.image_started(getpid(), 2000);  // the only image we know began at 2000
    s.note(getpid(), {ip}, 1500);     // a record an earlier image sent
    EXPECT_EQ(name_of(s, getpid(), ip), "");
}

TEST(CallSiteSymbolizer, AForkedChildsFramesAreNamedFromItsParentsMappings) {
    uint64_t ip = a_return_address();
    CallSiteSymbolizer s;
    s.image_started(getpid(), 1000);
    // No process has this pid: a name can only come from the parent's mappings, copied.
    constexpr pid_t kChild = 0x3ffffff;
    s.image_copied(kChild, getpid(), 2000);
    s.note(kChild, {ip}, 3000);
    std::string name = name_of(s, kChild, ip);
    EXPECT_NE(name.find("AForkedChildsFramesAreNamedFromItsParentsMappings"), std::string::npos)
        << name;
}

TEST(CallSiteSymbolizer, AForkedChildOfAnUnknownParentIsReadItself) {
    uint64_t ip = a_return_address();
    CallSiteSymbolizer s;
    // The parent (an unknown pid) has no image: the child's (our own) mappings are read.
    s.image_copied(getpid(), 0x3ffffff, 1000);
    s.note(getpid(), {ip}, 2000);
    std::string name = name_of(s, getpid(), ip);
    EXPECT_NE(name.find("AForkedChildOfAnUnknownParentIsReadItself"), std::string::npos) << name;
}

TEST(CallSiteSymbolizer, AFrameWithoutLineInformationNamesItsModule) {
    SourceFrame frame;
    frame.module = "libc.so.6";
    EXPECT_EQ(CallSiteSymbolizer::label(frame, 0x27249), "libc.so.6+0x27249");
    frame.function = "__libc_start_main";
    EXPECT_EQ(CallSiteSymbolizer::label(frame, 0x27249), "__libc_start_main (libc.so.6)");
    frame.file = "/build/glibc/csu/libc-start.c";
    frame.line = 360;
    EXPECT_EQ(CallSiteSymbolizer::label(frame, 0x27249), "__libc_start_main (libc-start.c:360)");
}

}  // namespace
}  // namespace cowtrace::collector

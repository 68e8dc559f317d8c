// PageFaultSampler against the real kernel: a forked child's page faults come back as samples
// of that child, and the sampler keeps the kernel's page-fault event key held while open.
#include "collector/page_fault_sampler.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace cowtrace::collector {
namespace {

class PageFaultSamplerTest : public ::testing::Test {
protected:
    void SetUp() override {
        PageFaultSampler::Options options;
        options.period = 1;
        options.stack_bytes = 512;
        options.ring_pages = 64;
        std::string error;
        if (!sampler_.open(options, error)) GTEST_SKIP() << "no page-fault sampling: " << error;
    }
    PageFaultSampler sampler_;
};

TEST_F(PageFaultSamplerTest, HoldsThePageFaultKeyWhileOpen) {
    // Without it, every short-lived process's events patch the kernel's text twice.
    EXPECT_TRUE(sampler_.holds_page_fault_key());
}

TEST_F(PageFaultSamplerTest, SamplesTheFaultsOfAnAddedProcess) {
    int go[2];
    ASSERT_EQ(pipe(go), 0);
    constexpr size_t kPages = 256;
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        char byte;
        if (read(go[0], &byte, 1) != 1) _exit(2);
        void* p = mmap(nullptr, kPages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED) _exit(3);
        for (size_t i = 0; i < kPages; ++i) static_cast<volatile char*>(p)[i * 4096] = 1;
        _exit(0);
    }
    std::string error;
    bool added = sampler_.add_process(child, error);
    ASSERT_EQ(write(go[1], "x", 1), 1);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(added) << error;
    size_t of_child = 0, elsewhere = 0;
    sampler_.drain([&](const FaultSample& s) { (s.pid == child ? of_child : elsewhere) += 1; });
    // Every fault is sampled (period 1): at least the pages written, maybe a few more (its stack).
    EXPECT_GE(of_child, kPages);
    EXPECT_EQ(elsewhere, 0u);
    sampler_.remove_process(child);
    EXPECT_FALSE(sampler_.sampling(child));
    close(go[0]);
    close(go[1]);
}

}  // namespace
}  // namespace cowtrace::collector

// PageFaultSampler against the real kernel: a forked child's page faults come back as samples
// of that child, and the sampler keeps the kernel's page-fault event key held while open.
#include "collector/page_fault_sampler.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace cowtrace::collector {
namespace {

constexpr size_t kPages = 256;

// Maps kPages pages and writes each once: kPages page faults.
bool write_fresh_pages() {
    void* p =
        mmap(nullptr, kPages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    for (size_t i = 0; i < kPages; ++i) static_cast<volatile char*>(p)[i * 4096] = 1;
    return true;
}

void* wait_then_write(void* go_fd) {
    char byte;
    if (read(*static_cast<int*>(go_fd), &byte, 1) != 1) return nullptr;
    return write_fresh_pages() ? go_fd : nullptr;
}

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
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        char byte;
        if (read(go[0], &byte, 1) != 1) _exit(2);
        _exit(write_fresh_pages() ? 0 : 3);
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

TEST_F(PageFaultSamplerTest, SamplesTheFaultsOfAThreadStartedBeforeTheProcessWasAdded) {
    int go[2], ready[2];
    ASSERT_EQ(pipe(go), 0);
    ASSERT_EQ(pipe(ready), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The faults are the second thread's: its events are its own, not inherited.
        pthread_t writer;
        if (pthread_create(&writer, nullptr, wait_then_write, &go[0]) != 0) _exit(2);
        if (write(ready[1], "r", 1) != 1) _exit(3);
        void* wrote = nullptr;
        pthread_join(writer, &wrote);
        _exit(wrote != nullptr ? 0 : 4);
    }
    char byte;
    ASSERT_EQ(read(ready[0], &byte, 1), 1);
    std::string error;
    bool added = sampler_.add_process(child, error);
    ASSERT_EQ(write(go[1], "x", 1), 1);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(added) << error;
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    size_t of_child = 0;
    sampler_.drain([&](const FaultSample& s) { of_child += s.pid == child ? 1 : 0; });
    EXPECT_GE(of_child, kPages);
    sampler_.remove_process(child);
    for (int fd : {go[0], go[1], ready[0], ready[1]}) close(fd);
}

}  // namespace
}  // namespace cowtrace::collector

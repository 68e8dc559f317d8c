#include "collector/children_poller.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "collector/attached_processes.hpp"

namespace cowtrace::collector {
namespace {

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Polls until done() or about 5 s have passed.
template <typename Done>
bool eventually(Done done) {
    for (int i = 0; i < 500; ++i) {
        if (done()) return true;
        usleep(10'000);
    }
    return false;
}

TEST(ProcessStat, SaysWhereTheCommandLineLies) {
    std::optional<ProcessStat> self = read_process_stat(getpid());
    ASSERT_TRUE(self);
    EXPECT_TRUE(self->command_line_laid_out());
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::string cmdline{std::istreambuf_iterator<char>(in), {}};
    EXPECT_EQ(self->arg_end - self->arg_start, cmdline.size());
}

// A child forked by this process, found as a copy; its exec found later with the new command
// line in place; its end found as a zombie, with the signal that ended it.
TEST(ChildrenPoller, FindsAForkItsExecAndItsEnd) {
    int go[2];
    ASSERT_EQ(pipe(go), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        close(go[1]);
        char c;
        if (read(go[0], &c, 1) == 1)
            execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
        _exit(127);
    }
    close(go[0]);
    ChildrenPoller poller;
    poller.follow(getpid());

    std::vector<PolledEvent> events = poller.poll(monotonic_ns());
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, PolledEvent::Kind::kFork);
    EXPECT_EQ(events[0].pid, child);
    EXPECT_EQ(events[0].parent, getpid());
    EXPECT_TRUE(events[0].still_a_copy);
    EXPECT_TRUE(poller.poll(monotonic_ns()).empty()) << "nothing new";

    ASSERT_EQ(write(go[1], "x", 1), 1);
    close(go[1]);
    std::vector<PolledEvent> exec;
    ASSERT_TRUE(eventually([&] {
        exec = poller.poll(monotonic_ns());
        return !exec.empty();
    }));
    ASSERT_EQ(exec.size(), 1u);
    EXPECT_EQ(exec[0].kind, PolledEvent::Kind::kExec);
    EXPECT_EQ(exec[0].pid, child);
    // Told only once the command line is there to read.
    std::vector<std::string> argv = read_command_line(child);
    ASSERT_EQ(argv.size(), 2u);
    EXPECT_EQ(argv[0], "sleep");

    ASSERT_EQ(kill(child, SIGKILL), 0);
    std::vector<PolledEvent> end;
    ASSERT_TRUE(eventually([&] {
        end = poller.poll(monotonic_ns());
        return !end.empty();
    }));
    ASSERT_EQ(end.size(), 1u) << "its end, and not its zombie found as a new child";
    EXPECT_EQ(end[0].kind, PolledEvent::Kind::kExit);
    EXPECT_TRUE(end[0].status_known);
    EXPECT_TRUE(WIFSIGNALED(end[0].status));
    EXPECT_EQ(WTERMSIG(end[0].status), SIGKILL);
    // Still listed among this process's children until reaped, the zombie is no new child.
    EXPECT_TRUE(poller.poll(monotonic_ns()).empty());
    int status = 0;
    EXPECT_EQ(waitpid(child, &status, 0), child);
    EXPECT_EQ(poller.following(), 1u);
}

}  // namespace
}  // namespace cowtrace::collector

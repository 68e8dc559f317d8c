// The library's descriptor creations and the host's range closes exclude each other
// (fd_table_lock.hpp), and no holder can leave the lock held for good: a forked child does not
// wait for a thread it does not have, a signal handler inside a section does not wait for itself,
// and a waiter gives up on a holder that never lets go.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "fd_table_lock.hpp"
#include "owned_fd.hpp"

namespace cowtrace::shim {
namespace {

TEST(FdTableLock, ASecondSectionStartsOnlyWhenTheFirstHasEnded) {
    std::atomic<int> phase{0};
    std::atomic<bool> second_held{false};
    std::atomic<int> phase_when_second_began{-1};
    std::thread first([&] {
        FdTableLock lock;
        EXPECT_TRUE(lock.held());
        phase = 1;
        // Long enough for the second thread to be waiting, well inside kMaxWaitNs.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        phase = 2;
    });
    while (phase.load() == 0) std::this_thread::yield();
    std::thread second([&] {
        FdTableLock lock;
        second_held = lock.held();
        phase_when_second_began = phase.load();
    });
    first.join();
    second.join();
    EXPECT_TRUE(second_held.load());
    EXPECT_EQ(phase_when_second_began.load(), 2);
}

TEST(FdTableLock, AForkedChildDoesNotWaitForItsParentsHolder) {
    std::atomic<bool> holding{false}, release{false};
    std::thread holder([&] {
        FdTableLock lock;
        holding = true;
        while (!release.load()) std::this_thread::yield();
    });
    while (!holding.load()) std::this_thread::yield();
    pid_t pid = fork();
    if (pid == 0) {
        FdTableLock lock;
        _exit(lock.held() ? 0 : 1);
    }
    int status = -1;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    release = true;
    holder.join();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

TEST(FdTableLock, ANestedSectionOnTheSameThreadNeitherWaitsNorReleasesTheOuter) {
    FdTableLock outer;
    ASSERT_TRUE(outer.held());
    {
        FdTableLock inner;  // as a signal handler inside our own section would
        EXPECT_FALSE(inner.held());
    }
    // The outer section still excludes other threads: one of them gives up rather than enters.
    bool other_held = true;
    std::thread([&] { other_held = FdTableLock().held(); }).join();
    EXPECT_FALSE(other_held);
}

TEST(MoveHigh, MovesAboveTheLowestAskedForAndFreesTheLowNumber) {
    int low = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    ASSERT_GE(low, 0);
    int high = move_high(low, kPreferredLowestFd);
    ASSERT_GE(high, kPreferredLowestFd);
    EXPECT_EQ(fcntl(low, F_GETFD), -1) << "the low number is still open";
    EXPECT_EQ(fcntl(high, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    close(high);
}

TEST(MoveHigh, ADescriptorAlreadyClosedIsNotOursAndTheNumberIsLeftAlone) {
    int low = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    ASSERT_GE(low, 0);
    close(low);
    EXPECT_EQ(move_high(low, kPreferredLowestFd), -1);
    EXPECT_EQ(fcntl(kPreferredLowestFd, F_GETFD), -1) << "a descriptor was made from nothing";
}

}  // namespace
}  // namespace cowtrace::shim

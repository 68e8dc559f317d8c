// Who a wrapper believes it runs as (process_state.hpp): asked of the kernel once per event,
// never remembered, so a vfork child and a copy made behind the library's back see themselves.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "process_state.hpp"
#include "raw_syscall.hpp"

namespace cowtrace::shim {
namespace {

struct ChildView {
    Caller caller;
    pid_t own_pid = 0;
};

int look_at_self(void* arg) {
    auto* view = static_cast<ChildView*>(arg);
    view->caller = current_caller();
    view->own_pid = static_cast<pid_t>(raw_getpid());
    return 0;
}

// Runs look_at_self in a child created with flags; returns what it saw (through shared memory
// for CLONE_VM, else through a pipe).
ChildView run_child(int flags) {
    constexpr size_t kStackBytes = 256 * 1024;
    static char stack[kStackBytes] __attribute__((aligned(16)));
    ChildView view;
    if (flags & CLONE_VM) {
        pid_t pid = clone(look_at_self, stack + kStackBytes, flags | SIGCHLD, &view);
        EXPECT_GT(pid, 0);
        int status = 0;
        EXPECT_EQ(waitpid(pid, &status, 0), pid);
        return view;
    }
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        look_at_self(&view);
        ssize_t n = write(fds[1], &view, sizeof view);
        _exit(n == static_cast<ssize_t>(sizeof view) ? 0 : 1);
    }
    close(fds[1]);
    EXPECT_EQ(read(fds[0], &view, sizeof view), static_cast<ssize_t>(sizeof view));
    close(fds[0]);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    return view;
}

TEST(Caller, TheOwnerSeesItselfAndNoBorrowedMemory) {
    adopt_process(getpid());
    Caller caller = current_caller();
    EXPECT_EQ(caller.pid, getpid());
    EXPECT_EQ(caller.tid, gettid());
    EXPECT_FALSE(caller.vfork_child);
}

TEST(Caller, AVforkChildSeesItsOwnPidAndThatItBorrowsMemory) {
    adopt_process(getpid());
    ChildView view = run_child(CLONE_VM | CLONE_VFORK);
    EXPECT_EQ(view.caller.pid, view.own_pid);
    EXPECT_NE(view.caller.pid, getpid());
    EXPECT_EQ(view.caller.tid, view.own_pid);
    EXPECT_TRUE(view.caller.vfork_child);
}

// A fork nobody told the library about: its globals still name the parent, yet it is no vfork
// child (it has memory of its own), so ensure_initialized adopts it.
TEST(Caller, AnUnannouncedForkChildIsNotTakenForAVforkChild) {
    adopt_process(getpid());
    ChildView view = run_child(0);
    EXPECT_EQ(view.caller.pid, view.own_pid);
    EXPECT_NE(view.caller.pid, getpid());
    EXPECT_FALSE(view.caller.vfork_child);
}

TEST(Caller, BeforeAnyProcessIsAdoptedNobodyBorrowsMemory) {
    adopt_process(0);
    ChildView view = run_child(CLONE_VM | CLONE_VFORK);
    EXPECT_FALSE(view.caller.vfork_child);
    adopt_process(getpid());
}

}  // namespace
}  // namespace cowtrace::shim

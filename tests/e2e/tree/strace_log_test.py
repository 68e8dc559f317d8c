"""Unit checks of strace_log.StraceTree on logs in the orders strace really prints them.

Run: python3 strace_log_test.py (exit 0 when every check holds)."""
import sys

from strace_log import StraceTree

ROOT = "100 execve(\"/bin/prog\", [\"prog\"], 0x7ffd /* 5 vars */) = 0\n"


def check(name, text, want_pids):
    got = sorted(StraceTree(text).facts())
    ok = got == sorted(want_pids)
    print(f"{name}: {'ok' if ok else f'FAIL: processes {got}, want {sorted(want_pids)}'}")
    return ok


CASES = [
    # The thread's clone returns before the thread ends: an ordinary thread.
    ("thread clone returned", ROOT +
     "100 clone(child_stack=0x1, flags=CLONE_VM|SIGCHLD) = 101\n"
     "101 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|"
     "CLONE_SYSVSEM, exit_signal=0} => {parent_tid=[102]}, 88) = 102\n"
     "102 exit_group(34) = ?\n"
     "102 +++ exited with 34 +++\n"
     "101 +++ exited with 34 +++\n"
     "100 +++ exited with 0 +++\n", [100, 101]),
    # The thread ends the process before its clone returned in the creator (seen in CI): strace
    # never prints the thread's id beside the clone, yet the thread is no process.
    ("thread clone never returned", ROOT +
     "100 clone(child_stack=0x1, flags=CLONE_VM|SIGCHLD) = 101\n"
     "101 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|"
     "CLONE_SYSVSEM, exit_signal=0} <unfinished ...>\n"
     "102 exit_group(34)                    = ?\n"
     "101 <... clone3 resumed> <unfinished ...>) = ?\n"
     "102 +++ exited with 34 +++\n"
     "101 +++ exited with 34 +++\n"
     "100 +++ exited with 0 +++\n", [100, 101]),
    # The same with the creator's clone still unfinished when the log ends.
    ("thread clone left unfinished", ROOT +
     "100 clone(child_stack=0x1, flags=CLONE_VM|SIGCHLD) = 101\n"
     "101 clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0} <unfinished ...>\n"
     "102 exit_group(34) = ?\n"
     "102 +++ exited with 34 +++\n"
     "101 +++ exited with 34 +++\n"
     "100 +++ exited with 0 +++\n", [100, 101]),
    # A process whose fork returned is kept even when an unreturned thread clone is about.
    ("process kept beside an unreturned thread clone", ROOT +
     "100 clone(child_stack=0x1, flags=CLONE_VM|SIGCHLD) = 101\n"
     "101 clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0} <unfinished ...>\n"
     "102 exit_group(34) = ?\n"
     "102 +++ exited with 34 +++\n"
     "101 +++ exited with 34 +++\n"
     "100 fork() = 103\n"
     "103 +++ exited with 0 +++\n"
     "100 +++ exited with 0 +++\n", [100, 101, 103]),
]

if __name__ == "__main__":
    results = [check(*case) for case in CASES]
    sys.exit(0 if all(results) else 1)

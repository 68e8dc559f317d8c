"""A daemon's fork, as `redis-server --daemonize yes` makes it: the launcher forks and exits at
once, and its child lives on. The collector is stopped (SIGSTOP) over the fork and the launcher's
exit, so it reads the child's memory only once its parent is gone, as a busy collector does:
nothing stayed shared with the child, which is not measured, and the reports say so rather than
calling a child that lived on "short-lived".

    test_daemon_fork.py"""

import os
import sys
import tempfile

from test_exec_keeps_process import run, stopped_until

PYTHON = "/usr/bin/python3"


def daemon_fork(work):
    go, done = os.path.join(work, "go"), os.path.join(work, "done")
    program = ("import os, time\n"
               f"while not os.path.exists({go!r}): time.sleep(0.01)\n"
               "launcher = os.getpid()\n"
               "if os.fork():\n"
               "    os._exit(0)\n"
               "while os.getppid() == launcher: time.sleep(0.001)\n"
               f"open({done!r}, 'w').close()\n"
               "time.sleep(0.3)\n")
    model, text, failures = run(work, [PYTHON, "-c", program], 0, stopped_until(go, done))
    print(text)
    root = model["root_pid"]
    forks = [f for f in model["forks"] if f["parent"] == root]
    if len(forks) != 1:
        return failures + [f"{len(forks)} forks of the launcher, expected 1"]
    ep = forks[0]
    print({k: ep.get(k) for k in ("child", "census", "parent_ended_first", "end_ns", "t_ns")})
    if ep["census"] == "measured":
        failures.append("the daemon was measured: its parent was gone before its memory was read")
    if not ep.get("parent_ended_first"):
        failures.append("parent_ended_first is false: the launcher exited before the daemon")
    line = [ln for ln in text.splitlines() if "cow:" in ln]
    if not line or "not measured (its parent exited" not in line[0] or "short-lived" in line[0]:
        failures.append(f"the text report's cow line: {line}")
    if "1 whose parent exited first, not measured" not in text:
        failures.append("the header does not count the daemon as one whose parent exited first")
    return failures


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="cowtrace-daemon-") as work:
        problems = daemon_fork(work)
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems))
    sys.exit(1 if problems else 0)

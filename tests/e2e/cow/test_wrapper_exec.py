"""A fork made after an exec, against PFN ground truth.

    test_wrapper_exec.py CASE MODE      (MODE: exact | unprivileged)

Servers are mostly started through a wrapper: a shell or Python process that forks helpers
(`v=$(prog --version)`, subprocess.run), then execs the server, which forks in turn. Each
wrapper CASE below does that before it execs tests/e2e/cow/cow_fixture, whose parent and child
then write known pages ("both": the parent writes the first half, the child the middle half).
The child_* cases run tests/e2e/cow/exec_fixture, whose child execs (or tries to) in the middle
of its episode. Every fixture process stops right after the fork and after its writes, so both
pagemaps are read as ground truth (as root), and cowtrace's figures for the fixture's episode
must agree with them as well as for a fixture started directly ("direct"): within 1 % in exact
mode (with the parent/child split), 2 % unprivileged (cowtrace run as nobody)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoints  # noqa: E402
import pfn_truth  # noqa: E402

COWTRACE = os.environ["COWTRACE_BIN"]
COW_FIXTURE = os.environ["COW_FIXTURE"]
EXEC_FIXTURE = os.environ["EXEC_FIXTURE"]
MIB = 64
PYTHON = "/usr/bin/python3"  # not a pyenv shim: the unprivileged case runs as nobody

# Shell wrappers: a command substitution (a forked subshell) and an external command (fork or
# vfork, then exec) before the exec. "$0" "$@" are the fixture and its arguments.
SHELL_WRAPPER = 'v=$(echo helper); /bin/true; exec "$0" "$@"'

# Python wrappers: os.fork() + os._exit() and subprocess.run() (vfork + exec) first, then the
# exec named by the variant. argv[1:] are the fixture and its arguments.
PYTHON_PRELUDE = """
import os, subprocess, sys, threading
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
subprocess.run(["/bin/true"], check=True)
"""
PYTHON_EXECS = {
    "python": "os.execv(sys.argv[1], sys.argv[1:])",
    # An exec that fails first: the process goes on in the same image.
    "python_exec_fails": "try:\n    os.execv('/nonexistent/prog', ['prog'])\nexcept OSError:\n"
                         "    pass\nos.execv(sys.argv[1], sys.argv[1:])",
    # exec from a thread other than the main one: the kernel makes it the process's only thread.
    "python_thread": "t = threading.Thread(target=os.execv, args=(sys.argv[1], sys.argv[1:]))\n"
                     "t.start()\nt.join()",
    # fexecve: os.execve with a descriptor.
    "python_fexecve": "os.execve(os.open(sys.argv[1], os.O_RDONLY), sys.argv[1:], os.environ)",
}


CASES = ["direct", "bash", "dash", *PYTHON_EXECS, "child_exec_fails", "child_vfork_exec"]


def command(case, fifo):
    if case.startswith("child_"):
        return [EXEC_FIXTURE, case, str(MIB), fifo]
    fixture_args = [COW_FIXTURE, "both", str(MIB), fifo]
    if case == "direct":
        return fixture_args
    if case in ("bash", "dash"):
        return [case, "-c", SHELL_WRAPPER] + fixture_args
    return [PYTHON, "-c", PYTHON_PRELUDE + PYTHON_EXECS[case] + "\n"] + fixture_args


def main(case, mode):
    work = tempfile.mkdtemp(prefix="cowtrace-wrapper-")
    os.chmod(work, 0o777)
    fifo = os.path.join(work, "sync")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o666)
    trace = os.path.join(work, "run.trace")
    cmd = [COWTRACE, "run", "-q", "--mode", mode, "-o", trace, "--"] + command(case, fifo)
    if mode == "unprivileged":
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + cmd
    roles = ["parent", "child0"]
    fifo_fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    proc = subprocess.Popen(cmd, cwd=work)
    deadline = time.time() + 120
    pending = {}
    try:
        forked = checkpoints.collect(fifo_fd, roles, "forked", pending, deadline, proc)
        at_fork = {role: pfn_truth.snapshot(pid) for role, pid in forked.items()}
        resumed_wall_ns = time.time_ns()
        for pid in forked.values():
            os.kill(pid, signal.SIGCONT)
        done = checkpoints.collect(fifo_fd, roles, "done", pending, deadline, proc)
        now = {role: pfn_truth.snapshot(pid) for role, pid in done.items()}
        for pid in done.values():
            os.kill(pid, signal.SIGCONT)
        rc = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(fifo_fd)
    assert rc == 0, f"cowtrace run exited {rc}"
    model = json.loads(subprocess.run([COWTRACE, "report", "-f", "json", trace], check=True,
                                      capture_output=True, text=True).stdout)
    text = subprocess.run([COWTRACE, "report", trace], check=True, capture_output=True,
                          text=True).stdout
    shutil.rmtree(work, ignore_errors=True)

    failures = []
    parent, child = forked["parent"], forked["child0"]
    ours = [f for f in model["forks"] if f["child"] == child]
    wrapper = case in ("bash", "dash") or case.startswith("python")
    if wrapper and not any(f["parent"] == parent and f["child"] != child for f in model["forks"]):
        failures.append(f"the wrapper's own fork before its exec is missing ({case})")
    if len(ours) != 1:
        failures.append(f"expected one episode for the fixture's child {child}, found {len(ours)}")
    else:
        ep = ours[0]
        truth = pfn_truth.episode_truth(at_fork["child0"], at_fork["parent"], now["child0"],
                                        now["parent"], pfn_truth.zero_pfn())
        tolerance = (0.01 if mode == "exact" else 0.02) * truth["shared_at_fork"]
        print(f"{case}/{mode}: episode {ep['parent']}->{child}, mode {ep['mode']}")
        if ep["parent"] != parent:
            failures.append(f"episode parent {ep['parent']}, the fixture is {parent}")
        if ep["mode"] != mode:
            failures.append(f"episode measured in mode {ep['mode']}, wanted {mode}")
        # Every fixture child lingers after its writes: worth an exact final census.
        if ep["census"] != "measured" or ep["final_from_last_sample"]:
            failures.append(f"census {ep['census']}, final figures from the last sample: "
                            f"{ep['final_from_last_sample']} (the child lingered for its census)")
        failures += pfn_truth.compare_episode(ep, truth, mode, tolerance, resumed_wall_ns,
                                              model["trace"]["wall_start_ns"])
        if ep["end"] != "exit":
            failures.append(f"episode ended by {ep['end']}, the child exited")
        shared_now = [s["shared_bytes"] for s in ep["samples"]]
        if shared_now and max(shared_now) < truth["shared_at_fork"] // 8:
            failures.append(f"the shared curve stays near 0 (at most {max(shared_now)} bytes)")
    if failures:
        print(text)
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        sys.exit(f"usage: test_wrapper_exec.py {{{'|'.join(CASES)}}} exact|unprivileged")
    sys.exit(main(sys.argv[1], sys.argv[2]))

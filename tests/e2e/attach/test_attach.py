"""`cowtrace attach` on a shell started plainly (no preload, no restart): after the attach the
shell runs cow_writer (fork + exec), whose child copies 20 of the 64 MiB it shares with its
parent. The trace holds the shell as it stood at the attach, the exec'd program with its
command line read from /proc, the fork's episode with the copies the child made, and exits
with their status. As root the census is exact (the child's share known), as the processes'
own user unprivileged; another user's process is refused with what is needed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reports"))
from report_tools import cowtrace, tool  # noqa: E402

MiB = 1 << 20
EXIT_TOOL_FAILURE = 125
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
ATTACH_STDERR: dict[Path, str] = {}


def shell_script() -> str:
    # Long enough before the fork for the attach to be in place, on a busy machine too (the
    # attach first checks the kernel's events with a child of its own: up to 0.5 s).
    return (f"sleep 2; {tool('COW_WRITER')} --share 64 --child-writes 20 --child-wait-ms 300 "
            "--hold-ms 600 --children 1; exit 3")


def attached_run(prefix: list[str], directory: Path, *args: str) -> tuple[dict, Path, int]:
    """Starts the shell plainly (as prefix says), attaches to it, returns the report's JSON,
    the trace and the shell's pid (and keeps attach's stderr in ATTACH_STDERR)."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    shell = subprocess.Popen([*prefix, "/bin/bash", "-c", shell_script()], env=env)
    # Through setpriv, the pid is setpriv's until it has switched user and exec'd bash.
    deadline = time.time() + 10
    while not Path(f"/proc/{shell.pid}/cmdline").read_bytes().startswith(b"/bin/bash\0"):
        if time.time() > deadline:
            raise AssertionError("the shell did not start")
        time.sleep(0.01)
    trace = directory / "attach.trace"
    try:
        out = subprocess.run([*prefix, tool("COWTRACE_BIN"), "attach", str(shell.pid), "-o", str(trace),
                              "-q", *args], capture_output=True, env=env, timeout=120)
    finally:
        shell_status = shell.wait(timeout=120)
    if out.returncode != 0:
        raise AssertionError(f"attach exited {out.returncode}: {out.stderr.decode(errors='replace')}")
    ATTACH_STDERR[trace] = out.stderr.decode(errors="replace")
    assert shell_status == 3, shell_status  # the host is not changed by being observed
    report = cowtrace("report", str(trace), "--format", "json")
    if report.returncode != 0:
        raise AssertionError(report.stderr.decode(errors="replace"))
    return json.loads(report.stdout), trace, shell.pid


def writable_dir() -> Path:
    d = Path(tempfile.mkdtemp(prefix="cowtrace-attach-"))
    os.chmod(d, 0o777)
    return d


class AttachChecks:
    mode = ""

    def test_the_shell_is_the_root_as_it_stood(self):
        root = self.procs[self.shell_pid]
        self.assertEqual(root["argv"][:2], ["/bin/bash", "-c"])
        self.assertEqual(root["exit"]["code"], 3)

    def test_the_exec_is_named_from_proc(self):
        writer = self.writer
        self.assertEqual(writer["ppid"], self.shell_pid)
        self.assertEqual(writer["name"], "cow_writer")
        self.assertTrue(writer["execs"], writer)
        self.assertIn("--child-writes", writer["execs"][-1]["argv"])
        self.assertEqual(writer["exit"]["code"], 0)

    def test_the_writers_fork_is_measured(self):
        forks = [f for f in self.data["forks"] if f["parent"] == self.writer["pid"]]
        self.assertEqual(len(forks), 1, self.data["forks"])
        f = forks[0]
        self.assertEqual(f["census"], "measured", f)
        self.assertEqual(f["mode"], self.mode)
        self.assertGreaterEqual(f["shared_bytes_at_fork"], 64 * MiB)
        self.assertAlmostEqual(f["copied_bytes_peak"] / MiB, 20, delta=1.0)
        child = self.procs[f["child"]]
        self.assertEqual(child["exit"]["code"], 0)
        if self.mode == "exact":
            # The child waited before writing: its fork-time memory was read first.
            self.assertAlmostEqual(f["copied_by_child_bytes"] / MiB, 20, delta=1.0)
        else:
            self.assertIsNone(f["copied_by_child_bytes"])

    def test_attribution_is_off_unless_asked_for(self):
        # attach's default (run's is sampled): no page faults were sampled or unwound.
        forks = [f for f in self.data["forks"] if f["parent"] == self.writer["pid"]]
        self.assertEqual(len(forks), 1, self.data["forks"])
        self.assertIsNone(forks[0]["attribution_summary"], forks[0])
        self.assertEqual(forks[0]["attribution"], [])

    def test_the_trace_says_what_it_cannot_know(self):
        self.assertTrue(self.data["trace"]["attached"])
        notes = " ".join(n["text"] for n in self.data["trace"]["notes"])
        self.assertIn("attached to", notes)
        self.assertIn("fork call sites", notes)
        self.assertIn("running_at_attach", self.procs[self.shell_pid]["flags"])
        self.assertNotIn("running_at_attach", self.writer["flags"])
        text = cowtrace("report", str(self.trace)).stdout.decode()
        self.assertIn(f"attached to pid {self.shell_pid}, observed from outside", text)


class AttachToARunningShell(AttachChecks, unittest.TestCase):
    mode = "exact"

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("the exact census needs root")
        cls.data, cls.trace, cls.shell_pid = attached_run([], writable_dir())
        cls.procs = {p["pid"]: p for p in cls.data["processes"]}
        cls.writer = next(p for p in cls.data["processes"]
                          if p["ppid"] == cls.shell_pid and p["name"] == "cow_writer")


class AttachAsTheProcessesOwnUser(AttachChecks, unittest.TestCase):
    mode = "unprivileged"

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root to become nobody")
        cls.data, cls.trace, cls.shell_pid = attached_run(NOBODY, writable_dir())
        cls.procs = {p["pid"]: p for p in cls.data["processes"]}
        cls.writer = next(p for p in cls.data["processes"]
                          if p["ppid"] == cls.shell_pid and p["name"] == "cow_writer")


class AttachByPollingProc(unittest.TestCase):
    """--poll-children: what attach does without the proc connector (forced here, where the
    connector works). The shell's fork+exec of cow_writer falls within one interval: found as a
    fork and an exec; the writer's child lives several intervals: an episode, measured."""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("the exact census needs root")
        cls.data, cls.trace, cls.shell_pid = attached_run([], writable_dir(), "--poll-children")
        cls.procs = {p["pid"]: p for p in cls.data["processes"]}
        cls.writer = next(p for p in cls.data["processes"]
                          if p["ppid"] == cls.shell_pid and p["name"] == "cow_writer")

    def test_it_says_so_on_stderr_and_in_the_trace(self):
        err = ATTACH_STDERR[self.trace]
        self.assertIn("no kernel process events (not used: --poll-children)", err)
        self.assertIn("polling /proc every 100 ms", err)
        self.assertFalse(self.data["trace"]["kernel_events"])
        notes = " ".join(n["text"] for n in self.data["trace"]["notes"])
        self.assertIn("a look at /proc every sampling interval", notes)
        self.assertIn("a child that forks and ends within an interval is missed", notes)

    def test_the_exec_is_found_with_its_command_line(self):
        self.assertTrue(self.writer["execs"], self.writer)
        self.assertIn("--child-writes", self.writer["execs"][-1]["argv"])
        self.assertIsNotNone(self.writer["end_ns"], "its end was found")

    def test_the_writers_child_is_an_episode_measured(self):
        forks = [f for f in self.data["forks"] if f["parent"] == self.writer["pid"]]
        self.assertEqual(len(forks), 1, self.data["forks"])
        f = forks[0]
        self.assertEqual(f["census"], "measured", f)
        self.assertFalse(f["under_way_at_attach"])
        self.assertGreaterEqual(f["shared_bytes_at_fork"], 64 * MiB)
        # The child waits 300 ms (three looks) before writing: all its copies come after its
        # memory was read, and are its own.
        self.assertAlmostEqual(f["copied_bytes_peak"] / MiB, 20, delta=1.0)
        self.assertAlmostEqual(f["copied_by_child_bytes"] / MiB, 20, delta=1.0)
        self.assertEqual(f["end"], "exit")
        child = self.procs[f["child"]]
        self.assertIsNotNone(child["end_ns"])
        self.assertEqual(child["ppid"], self.writer["pid"])

    def test_exits_found_as_zombies_have_their_status(self):
        # The shell's parent (this test) reaps it only after attach has ended: the look found
        # it a zombie, and read its status.
        self.assertEqual(self.procs[self.shell_pid]["exit"]["code"], 3)
        # Reaped at once by their parents: ended, status unknown (or caught as a zombie).
        for p in self.data["processes"]:
            self.assertIsNotNone(p["end_ns"], p)
            if p["pid"] == self.shell_pid:
                continue
            self.assertIn(p["exit"], (None, {"code": 0, "source": "kernel"}), p)


class AttachInsideAPidNamespace(unittest.TestCase):
    """A container's view: a shell and `cowtrace attach` in new user and PID namespaces. The proc
    connector subscribes there but its events carry the initial namespace's pids: attach finds
    that out (a fork of its own it does not hear of) and polls /proc instead, saying why. The
    writer's fork is measured (unprivileged: no frame numbers in a user namespace)."""

    @classmethod
    def setUpClass(cls):
        namespaces = ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc"]
        if subprocess.run([*namespaces, "true"], capture_output=True).returncode != 0:
            raise unittest.SkipTest("this machine does not let us make user and PID namespaces")
        d = writable_dir()
        cls.trace = d / "container.trace"
        inner = (f"sleep 1; {tool('COW_WRITER')} --share 64 --child-writes 20 "
                 "--child-wait-ms 300 --hold-ms 600 --children 1")
        script = f"bash -c '{inner}' & {tool('COWTRACE_BIN')} attach -q -o {cls.trace} $!"
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        cls.out = subprocess.run([*namespaces, "bash", "-c", script], capture_output=True,
                                 env=env, timeout=120)
        if cls.out.returncode != 0:
            raise AssertionError(f"attach in the namespaces exited {cls.out.returncode}: "
                                 f"{cls.out.stderr.decode(errors='replace')}")
        cls.data = json.loads(cowtrace("report", str(cls.trace), "--format", "json").stdout)

    def test_it_polls_and_says_why(self):
        err = self.out.stderr.decode()
        self.assertIn("do not name processes as this PID namespace does", err)
        self.assertFalse(self.data["trace"]["kernel_events"])

    def test_the_writers_fork_is_measured(self):
        writer = next(p for p in self.data["processes"] if p["name"] == "cow_writer"
                      and p["execs"])
        forks = [f for f in self.data["forks"] if f["parent"] == writer["pid"]]
        self.assertEqual(len(forks), 1, self.data["forks"])
        f = forks[0]
        self.assertEqual(f["census"], "measured", f)
        self.assertEqual(f["mode"], "unprivileged")
        self.assertAlmostEqual(f["copied_bytes_peak"] / MiB, 20, delta=1.0)


def read_pfns(pid: int) -> dict[int, int]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cow"))
    import pfn_truth  # noqa: E402
    return pfn_truth.snapshot(pid)


class ForkUnderWayChecks:
    """cow_writer forks; its child copies 12 MiB and the parent 6 MiB; then the attach; then the
    child copies 10 MiB more. The child had not exec'd at the attach: its episode is flagged
    under_way_at_attach, the copies from before count with no side, the later ones as the
    child's (exact mode); the total against the page frames themselves (PFN ground truth, read
    as root) while both live."""
    prefix: list[str] = []
    mode = ""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("the PFN truth needs root (and the exact census, or nobody)")
        d = writable_dir()
        go = d / "go"
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        writer = subprocess.Popen(
            [*cls.prefix, tool("COW_WRITER"), "--share", "64", "--child-writes", "12", "--parent-writes", "6",
             "--child-wait-ms", "200", "--child-more-writes", "10", "--child-go-file", str(go),
             "--hold-ms", "1500"], env=env, stdout=subprocess.PIPE, text=True)
        cls.trace = d / "underway.trace"
        observer = None
        try:
            assert writer.stdout.readline() == "written\n"
            observer = subprocess.Popen([*cls.prefix, tool("COWTRACE_BIN"), "attach",
                                         str(writer.pid), "-o", str(cls.trace)],
                                        stderr=subprocess.PIPE, text=True, env=env)
            assert "attached to 2 processes" in observer.stderr.readline()
            time.sleep(0.5)  # its first reading of the child's memory
            go.touch()
            assert writer.stdout.readline() == "more written\n"
            children = Path(f"/proc/{writer.pid}/task/{writer.pid}/children").read_text().split()
            cls.child_pid = int(children[0])
            cls.child_pfns, cls.parent_pfns = read_pfns(cls.child_pid), read_pfns(writer.pid)
            assert writer.wait(timeout=60) == 0
            assert observer.wait(timeout=60) == 0
        finally:
            for p in (writer, observer):
                if p is not None and p.poll() is None:
                    p.kill()
                    p.wait()
        cls.writer_pid = writer.pid
        cls.data = json.loads(cowtrace("report", str(cls.trace), "--format", "json").stdout)
        cls.episode = next(f for f in cls.data["forks"] if f["child"] == cls.child_pid)
        # The last figures: counted page by page, or estimated within a stated 95 % bound (the
        # sampler's budget affords an exact census of this episode only every so often).
        cls.last = cls.episode["samples"][-1]

    def test_the_episode_is_flagged(self):
        e = self.episode
        self.assertEqual(e["parent"], self.writer_pid)
        self.assertEqual(e["census"], "measured", e)
        self.assertEqual(e["mode"], self.mode)
        self.assertTrue(e["under_way_at_attach"])
        self.assertTrue(any("under way when cowtrace attached" in a for a in e["approximations"]))
        text = cowtrace("report", str(self.trace)).stdout.decode()
        self.assertIn("under way at the attach", text)

    def test_copies_against_the_page_frames(self):
        # Copied: present in both, two frames. Ground truth read while both still lived.
        truth = sum(1 for a, f in self.child_pfns.items()
                    if a in self.parent_pfns and self.parent_pfns[a] != f) * 4096
        s = self.last
        print(f"copied: cowtrace {s['copied_bytes']} (exact: {s['exact']}, ± {s['error_bytes']}) "
              f"vs PFN truth {truth}")
        self.assertAlmostEqual(s["copied_bytes"], truth,
                               delta=0.01 * truth + 64 * 4096 + s["error_bytes"])
        self.assertGreaterEqual(truth, 28 * MiB)

    def test_later_copies_are_the_childs_earlier_ones_have_no_side(self):
        s = self.last
        if self.mode != "exact":
            self.assertNotIn("copied_by_child_bytes", s)  # no split without frame numbers
            return
        bound = 1 * MiB + s["error_bytes"]
        self.assertAlmostEqual(s["copied_by_child_bytes"], 10 * MiB, delta=bound)
        self.assertLess(s["copied_by_parent_bytes"], bound)
        no_side = s["copied_bytes"] - s["copied_by_child_bytes"] - s["copied_by_parent_bytes"]
        self.assertAlmostEqual(no_side, 18 * MiB, delta=bound)


class AttachToAForkUnderWay(ForkUnderWayChecks, unittest.TestCase):
    mode = "exact"


class AttachToAForkUnderWayUnprivileged(ForkUnderWayChecks, unittest.TestCase):
    prefix = NOBODY
    mode = "unprivileged"


POOL = """
import multiprocessing as mp, time
data = bytearray(32 << 20)
def work(i):
    time.sleep(0.3)
    return sum(data[::4096]) + i
if __name__ == "__main__":
    time.sleep(2)  # time for the attach (its kernel-event check included)
    with mp.get_context("fork").Pool(4) as p:
        print(sum(p.map(work, range(8))))
"""


class AttachToAPythonPool(unittest.TestCase):
    def test_one_measured_episode_per_worker(self):
        d = writable_dir()
        script = d / "pool.py"
        script.write_text(POOL)
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        py = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE)
        trace = d / "pool.trace"
        out = subprocess.run([tool("COWTRACE_BIN"), "attach", str(py.pid), "-o", str(trace), "-q"],
                             capture_output=True, env=env, timeout=120)
        stdout, _ = py.communicate(timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(py.returncode, 0)
        self.assertEqual(stdout.strip(), b"28", "the pool's work is not changed by the attach")
        data = json.loads(cowtrace("report", str(trace), "--format", "json").stdout)
        workers = [f for f in data["forks"] if f["parent"] == py.pid]
        self.assertEqual(len(workers), 4, data["forks"])
        for f in workers:
            self.assertEqual(f["census"], "measured", f)
            self.assertGreaterEqual(f["shared_bytes_at_fork"], 32 * MiB)


class Refusals(unittest.TestCase):
    def test_another_users_process_is_refused_saying_what_is_needed(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to become nobody")
        sleeper = subprocess.Popen(["/bin/sleep", "30"])
        try:
            out = subprocess.run([*NOBODY, tool("COWTRACE_BIN"), "attach", str(sleeper.pid), "-o",
                                  "/dev/null", "-q"], capture_output=True, timeout=60)
            self.assertEqual(out.returncode, EXIT_TOOL_FAILURE, out)
            err = out.stderr.decode()
            self.assertIn(f"pid {sleeper.pid} belongs to uid 0", err)
            self.assertIn("as that user or as root", err)
            self.assertIsNone(sleeper.poll(), "the target is left alone")
        finally:
            sleeper.kill()
            sleeper.wait()

    def test_no_such_process(self):
        out = cowtrace("attach", "999999999", "-o", "/dev/null", "-q")
        self.assertEqual(out.returncode, EXIT_TOOL_FAILURE, out)
        self.assertIn("no process 999999999", out.stderr.decode())

    def test_a_thread_is_not_a_process(self):
        code = ("import threading, time\n"
                "t = threading.Thread(target=time.sleep, args=(30,))\n"
                "t.start()\n"
                "print(t.native_id, flush=True)\n"
                "t.join()")
        py = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
        try:
            tid = int(py.stdout.readline())
            out = cowtrace("attach", str(tid), "-o", "/dev/null", "-q")
            self.assertEqual(out.returncode, EXIT_TOOL_FAILURE, out)
            self.assertIn(f"is a thread of process {py.pid}", out.stderr.decode())
        finally:
            py.kill()
            py.wait()

    def test_usage(self):
        out = cowtrace("attach")
        self.assertEqual(out.returncode, 2, out)

    def test_a_duration_in_words_and_a_bad_one(self):
        sleeper = subprocess.Popen(["/bin/sleep", "30"])
        try:
            for text, at_least, below in (("1.5", 1.5, 20), ("700ms", 0.7, 20)):
                t0 = time.monotonic()
                out = cowtrace("attach", str(sleeper.pid), "--duration", text, "-o", "/dev/null",
                               "-q")
                took = time.monotonic() - t0
                self.assertEqual(out.returncode, 0, out)
                # not a timing assertion: it must not end before the time asked, nor wait for
                # the sleeper's 30 s
                self.assertGreaterEqual(took, at_least, text)
                self.assertLess(took, below, text)
            out = cowtrace("attach", str(sleeper.pid), "--duration", "lots", "-o", "/dev/null")
            self.assertEqual(out.returncode, 2, out)
            self.assertIn("--duration 'lots' is not a duration", out.stderr.decode())
            self.assertIsNone(sleeper.poll(), "the target is left alone")
        finally:
            sleeper.kill()
            sleeper.wait()


if __name__ == "__main__":
    unittest.main()

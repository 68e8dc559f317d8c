"""Which code copied. split_writer (built -O2 -fomit-frame-pointer, as distribution binaries are)
forks, then one side writes every page the two share: hot_writer() the first 70 %, cold_writer()
the last 30 %, interleaved, each through libc's memset. The kernel's frame-pointer chain cannot
name the writers there; the collector's unwinder must, and the shares it finds must be those the
fixture wrote (within 5 points), covering at least 80 % of the copies the census counted. The
same with the child as the writer, under `attach`, and as an unprivileged user; with attribution
off, or forbidden by the host, the rest of the trace is unaffected and the reason is said."""
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
from report_tools import cowtrace, dump_dom, parse_html, tool  # noqa: E402

MiB = 1 << 20
PAGES = 25600  # 100 MiB: ~800 samples at the default period, a share within ±1.6 points (1 σ)
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


def fixture(name: str) -> str:
    return str(Path(tool("COWTRACE_FIXTURES")) / name)


def writable_dir() -> Path:
    d = Path(tempfile.mkdtemp(prefix="cowtrace-attribution-"))
    os.chmod(d, 0o777)
    return d


def report_json(trace: Path) -> dict:
    out = cowtrace("report", str(trace), "--format", "json")
    if out.returncode != 0:
        raise AssertionError(out.stderr.decode(errors="replace"))
    return json.loads(out.stdout)


def traced_run(writer: str, *options: str, prefix: list[str] | None = None,
               wrapper: list[str] | None = None,
               quiet: bool = True) -> tuple[dict, Path, subprocess.CompletedProcess]:
    d = writable_dir()
    trace = d / "split.trace"
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    out = subprocess.run([*(prefix or []), *(wrapper or []), tool("COWTRACE_BIN"), "run",
                          *(["-q"] if quiet else []), "-o", str(trace), *options, "--",
                          fixture("split_writer"), "--writer", writer, "--pages", str(PAGES)],
                         capture_output=True, env=env, timeout=240)
    if out.returncode != 0:
        raise AssertionError(f"cowtrace run exited {out.returncode}: "
                             f"{out.stderr.decode(errors='replace')}")
    return report_json(trace), trace, out


def attached_run(writer: str) -> tuple[dict, Path]:
    d = writable_dir()
    trace = d / "split.trace"
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    # Started plainly; it waits before forking so that the attach is in place.
    host = subprocess.Popen([fixture("split_writer"), "--writer", writer, "--pages", str(PAGES),
                             "--hold-ms", "1500"], env=env, stdout=subprocess.DEVNULL)
    time.sleep(0.2)
    out = subprocess.run([tool("COWTRACE_BIN"), "attach", str(host.pid), "-q", "-o", str(trace),
                          "--attribution", "sampled"],
                         capture_output=True, env=env, timeout=240)
    assert host.wait(timeout=240) == 0
    if out.returncode != 0:
        raise AssertionError(f"attach exited {out.returncode}: "
                             f"{out.stderr.decode(errors='replace')}")
    return report_json(trace), trace


def the_fork(data: dict) -> dict:
    forks = [f for f in data["forks"] if f["census"] == "measured"]
    assert len(forks) == 1, data["forks"]
    return forks[0]


def frame_named(stack: list[str], function: str) -> str | None:
    return next((f for f in stack if f == function or f.startswith(function + " ")), None)


class AttributionChecks:
    writer = "parent"
    exact = True

    def writer_paths(self) -> list[dict]:
        return [p for p in self.fork["attribution"] if p["side"] == self.writer]

    def bytes_through(self, function: str) -> int:
        return sum(p["copied_bytes"] for p in self.writer_paths()
                   if frame_named(p["stack"], function))

    def test_the_shares_are_the_fixtures(self):
        hot, cold = self.bytes_through("hot_writer"), self.bytes_through("cold_writer")
        self.assertGreater(hot + cold, 0, self.fork["attribution"])
        self.assertAlmostEqual(hot / (hot + cold), 0.70, delta=0.05,
                               msg=f"hot {hot} cold {cold}")

    def test_most_copies_are_covered(self):
        # Measured by the census: the writer's copies (exact), or all copies (unprivileged).
        f = self.fork
        copied = (f["copied_by_parent_bytes"] if self.writer == "parent" else
                  f["copied_by_child_bytes"]) if self.exact else f["copied_bytes_final"]
        self.assertGreaterEqual(copied, PAGES * 4096 * 0.99)
        covered = self.bytes_through("hot_writer") + self.bytes_through("cold_writer")
        self.assertGreaterEqual(covered, 0.8 * copied, self.fork["attribution_summary"])
        summary = self.fork["attribution_summary"]
        self.assertIsNone(summary["unavailable"])
        self.assertGreaterEqual(summary["coverage"], 0.8)

    def test_stacks_are_whole_and_have_lines(self):
        top = self.writer_paths()[0]["stack"]
        # The leaf is libc's memset; the writer below it, then main: a complete unwind of code
        # without frame pointers.
        self.assertIn("memset", top[0], top)
        writer = frame_named(top, "hot_writer") or frame_named(top, "cold_writer")
        self.assertIsNotNone(writer, top)
        self.assertIn("(split_writer.c:", writer)
        self.assertIsNotNone(frame_named(top, "main"), top)

    def test_the_other_side_copied_next_to_nothing(self):
        other = sum(p["copied_bytes"] for p in self.fork["attribution"]
                    if p["side"] != self.writer)
        self.assertLess(other, 0.02 * PAGES * 4096)


class ParentWriter(AttributionChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("the exact census needs root")
        cls.data, cls.trace, _ = traced_run("parent")
        cls.fork = the_fork(cls.data)

    def test_the_text_report_names_the_top_path(self):
        text = cowtrace("report", str(self.trace)).stdout.decode()
        self.assertIn("copies by code", text)
        self.assertIn("hot_writer", text)

    def test_folded_copies_weigh_the_writers(self):
        out = cowtrace("report", str(self.trace), "--format", "folded", "--weight", "copies")
        self.assertEqual(out.returncode, 0, out.stderr)
        weights = {}
        for line in out.stdout.decode().splitlines():
            stack, _, weight = line.rpartition(" ")
            for fn in ("hot_writer", "cold_writer"):
                if fn in stack:
                    weights[fn] = weights.get(fn, 0) + int(weight)
                    # Outermost first: the leaf (memset) comes last, the program first.
                    self.assertIn("memset", stack.split(";")[-1])
                    self.assertEqual(stack.split(";")[:2], ["split_writer", "[parent]"])
        self.assertAlmostEqual(weights["hot_writer"] / sum(weights.values()), 0.7, delta=0.05)

    def test_the_html_page_shows_the_paths(self):
        d = writable_dir()
        page = d / "report.html"
        out = cowtrace("report", str(self.trace), "--format", "html", "-o", str(page))
        self.assertEqual(out.returncode, 0, out.stderr)
        dom = parse_html(dump_dom(page, d))
        tables = dom.find_all("table", cls="copy-paths")
        self.assertEqual(len(tables), 1)
        rows = tables[0].find_all("tr", cls="copy-path")
        self.assertGreaterEqual(len(rows), 2)
        self.assertIn("hot_writer", rows[0].text())
        self.assertIn("cold_writer", rows[1].text())

    def test_a_failed_budget_names_the_top_path(self):
        out = cowtrace("check", str(self.trace), "--max-cow", "10MiB")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("hot_writer", out.stdout.decode() + out.stderr.decode())


class ChildWriter(AttributionChecks, unittest.TestCase):
    writer = "child"

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("the exact census needs root")
        cls.data, cls.trace, _ = traced_run("child")
        cls.fork = the_fork(cls.data)


class Attached(AttributionChecks, unittest.TestCase):
    writer = "parent"

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("the exact census needs root")
        cls.data, cls.trace = attached_run("parent")
        cls.fork = the_fork(cls.data)


class Unprivileged(AttributionChecks, unittest.TestCase):
    writer = "child"
    exact = False

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root to become nobody")
        cls.data, cls.trace, _ = traced_run("child", prefix=NOBODY)
        cls.fork = the_fork(cls.data)
        assert cls.fork["mode"] == "unprivileged", cls.fork["mode"]


TWO_CHILDREN = """
import os, time
data = bytearray(64 << 20)
for i in range(0, len(data), 4096): data[i] = 1
pids = []
for k in range(2):
    pid = os.fork()
    if pid == 0:
        time.sleep(0.5)
        for i in range(0, len(data), 4096): data[i] = 2
        time.sleep(0.5)
        os._exit(0)
    pids.append(pid)
    time.sleep(0.3)
for p in pids: os.waitpid(p, 0)
"""


class SecondChild(unittest.TestCase):
    """The second child of a parent already sampled (for the first) inherits the parent's events:
    its faults must not be sampled twice."""

    def test_each_child_is_attributed_its_own_copies(self):
        if os.geteuid() != 0:
            raise unittest.SkipTest("the exact census needs root")
        d = writable_dir()
        trace = d / "two.trace"
        out = cowtrace("run", "-q", "-o", str(trace), "--", sys.executable, "-c", TWO_CHILDREN)
        self.assertEqual(out.returncode, 0, out.stderr)
        forks = [f for f in report_json(trace)["forks"]
                 if (f["copied_by_child_bytes"] or 0) >= 60 * MiB]
        self.assertEqual(len(forks), 2, forks)
        for f in forks:
            summary = f["attribution_summary"]
            self.assertIsNotNone(summary)
            # Sampled twice, it read 2.95. Samples the kernel could not write (a busy machine
            # starves the collector) are counted: with them the paths stand for the copies. Each
            # sample weighs the period it was taken at (the period doubles when samples come too
            # fast, as on a loaded machine): the attributed bytes, not samples × the last period.
            self.assertLessEqual(summary["coverage"], 1.2, summary)
            with_lost = ((summary["attributed_bytes"] +
                          summary["lost_samples"] * summary["period"] * 4096) /
                         f["copied_bytes_final"])
            self.assertAlmostEqual(with_lost, 1.0, delta=0.2, msg=summary)


class OffAndForbidden(unittest.TestCase):
    def test_off_attributes_nothing_and_measures_the_same(self):
        data, _, _ = traced_run("parent", "--attribution", "off")
        f = the_fork(data)
        self.assertEqual(f["attribution"], [])
        self.assertIsNone(f["attribution_summary"])
        self.assertGreaterEqual(f["copied_bytes_final"], PAGES * 4096 * 0.99)

    def test_a_host_that_forbids_perf_events_is_told_once(self):
        data, _, out = traced_run("parent", wrapper=[fixture("deny_perf_events")], quiet=False)
        f = the_fork(data)
        self.assertEqual(f["attribution"], [])
        self.assertGreaterEqual(f["copied_bytes_final"], PAGES * 4096 * 0.99)
        stderr = out.stderr.decode()
        self.assertEqual(stderr.count("copies are not attributed to code"), 1, stderr)
        self.assertIn("perf_event_open", stderr)
        notes = " ".join(n["text"] for n in data["trace"]["notes"])
        self.assertIn("copies are not attributed to code", notes)

    def test_a_bad_mode_is_refused(self):
        out = cowtrace("run", "--attribution", "some", "--", "true")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("--attribution", out.stderr.decode())


class ShellLoopChildren(unittest.TestCase):
    """A shell's children exec within a few milliseconds: opening perf events for each would cost
    the collector more than the rest of their episodes. Once a parent's last 8 children have all
    ended within 20 ms, its next ones are held off 20 ms, and their attribution says why."""
    LOOP = 40
    LONGER_HOLD = "its parent's last 8 children all ended within 20 ms"

    @classmethod
    def setUpClass(cls):
        d = writable_dir()
        trace = d / "loop.trace"
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        out = subprocess.run([tool("COWTRACE_BIN"), "run", "-q", "-o", str(trace), "--",
                              "bash", "-c", f"for i in $(seq {cls.LOOP}); do /bin/true; done"],
                             capture_output=True, env=env, timeout=240)
        if out.returncode != 0:
            raise AssertionError(out.stderr.decode(errors="replace"))
        cls.data = report_json(trace)
        shell = next(p["pid"] for p in cls.data["processes"] if p["ppid"] not in
                     {q["pid"] for q in cls.data["processes"]})
        cls.forks = sorted((f for f in cls.data["forks"] if f["parent"] == shell),
                           key=lambda f: f["t_ns"])

    def summaries(self, forks):
        # No summary at all: a child whose exec was queued before its fork was read is never
        # sampled (no baseline either).
        return [f["attribution_summary"] for f in forks if f["attribution_summary"]]

    def test_every_child_is_an_episode(self):
        # the loop's children and the $(seq) substitution's
        self.assertEqual(len(self.forks), self.LOOP + 1)

    def test_the_first_children_are_held_off_the_usual_time(self):
        for s in self.summaries(self.forks[:8]):
            self.assertNotIn(self.LONGER_HOLD, s["unavailable"] or "")

    def test_later_children_are_held_off_longer_and_say_so(self):
        # On a loaded machine a child may outlive 20 ms and end a streak: most, not all.
        later = self.summaries(self.forks[8:])
        if not later:
            self.skipTest("every later child ended before its memory was read: none was held")
        longer = [s for s in later if self.LONGER_HOLD in (s["unavailable"] or "")]
        self.assertGreater(len(longer), 0, later)
        self.assertGreaterEqual(len(longer), len(later) // 2, later)
        for s in longer:
            self.assertIn("ended within 20 ms of its fork", s["unavailable"])
            self.assertEqual(s["samples"], 0)


if __name__ == "__main__":
    unittest.main()

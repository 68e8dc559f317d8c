"""`cowtrace check` fails closed on a trace that is damaged or incomplete: a truncated file, or the
trace of a collector that was killed. It says what is missing and exits 32 (ORed with the bits
of the budgets that failed on what the trace holds), unless --allow-incomplete is given; a
complete trace is unaffected."""
from __future__ import annotations

import os
import signal
import subprocess
import time
import unittest
import xml.etree.ElementTree as ET

from report_tools import cowtrace, synthetic, tool, workdir

EXIT_INCOMPLETE, EXIT_COW = 32, 4
FILE_HEADER_BYTES = 16  # docs/FORMAT.md: magic, version, flags


class CheckIncompleteTrace(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = workdir()
        cls.complete, cls.truth = synthetic("fork-server", cls.dir)
        data = cls.complete.read_bytes()
        cls.truncated = cls.dir / "truncated.trace"
        cls.truncated.write_bytes(data[: len(data) * 2 // 3])
        cls.killed = cls.dir / "killed.trace"
        cls.record_killed_collector(cls.killed)

    @staticmethod
    def record_killed_collector(trace):
        """`cowtrace run` killed (SIGKILL) while its command runs: no end record."""
        ready = trace.with_suffix(".ready")
        run = subprocess.Popen([tool("COWTRACE_BIN"), "run", "-q", "-o", str(trace), "--",
                                "bash", "-c", f"echo > {ready}; exec sleep 60"],
                               start_new_session=True)
        try:
            deadline = time.time() + 60
            # Killed once the command is running and the trace start is on disk.
            while not (ready.exists() and trace.exists()
                       and trace.stat().st_size > FILE_HEADER_BYTES):
                if time.time() > deadline or run.poll() is not None:
                    raise RuntimeError("cowtrace run did not start its command")
                time.sleep(0.05)
            run.send_signal(signal.SIGKILL)
            run.wait()
        finally:
            os.killpg(run.pid, signal.SIGKILL)  # the command outlives its collector

    def check(self, trace, *args):
        out = cowtrace("check", str(trace), *args)
        return out.returncode, out.stdout.decode(errors="replace") + out.stderr.decode(errors="replace")

    def test_a_complete_trace_is_judged_by_its_budgets_alone(self):
        status, out = self.check(self.complete, "--max-processes", "1000")
        self.assertEqual(status, 0, out)
        self.assertNotIn("incomplete", out)

    def test_a_truncated_trace_fails_and_says_it_is_damaged(self):
        status, out = self.check(self.truncated, "--max-processes", "1000")
        self.assertEqual(status, EXIT_INCOMPLETE, out)
        self.assertIn("FAILED", out)
        self.assertIn("incomplete", out)
        self.assertIn("damaged", out)
        self.assertIn("--allow-incomplete", out)

    def test_the_trace_of_a_killed_collector_fails_and_says_it_has_no_end(self):
        status, out = self.check(self.killed, "--max-processes", "1000")
        self.assertEqual(status, EXIT_INCOMPLETE, out)
        self.assertIn("no end record", out)

    def test_budgets_failing_on_what_it_holds_add_their_bits(self):
        status, out = self.check(self.truncated, "--max-cow", "1B")
        self.assertEqual(status, EXIT_INCOMPLETE | EXIT_COW, out)

    def test_allow_incomplete_checks_what_the_trace_holds(self):
        status, out = self.check(self.truncated, "--max-processes", "1000", "--allow-incomplete")
        self.assertEqual(status, 0, out)
        self.assertIn("incomplete", out, "the warning must still be given")
        status, out = self.check(self.killed, "--max-cow", "1B", "--allow-incomplete")
        self.assertNotEqual(status & EXIT_INCOMPLETE, EXIT_INCOMPLETE, out)

    def test_junit_has_an_error_for_the_incomplete_trace(self):
        junit = self.dir / "incomplete.xml"
        status, out = self.check(self.truncated, "--max-processes", "1000", "--junit", str(junit))
        self.assertEqual(status, EXIT_INCOMPLETE, out)
        cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
        self.assertIn("complete-trace", cases, list(cases))
        error = cases["complete-trace"].find("error")
        self.assertIsNotNone(error)
        self.assertEqual(error.get("type"), "IncompleteTrace")
        self.assertIn("damaged", error.get("message"))

    def test_run_takes_allow_incomplete_too(self):
        out = cowtrace("run", "-q", "-o", str(self.dir / "run.trace"), "--allow-incomplete",
                       "--max-processes", "10", "--", "true")
        self.assertEqual(out.returncode, 0, out.stderr.decode(errors="replace"))


if __name__ == "__main__":
    unittest.main()

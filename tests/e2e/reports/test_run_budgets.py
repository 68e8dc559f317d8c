"""`cowtrace run` with budgets, on real programs under the real library: the run fails after
the command ends, like `cowtrace check` on the same trace, and the command's own failure wins.
The copy-on-write and memory budgets rely on the collector's census (cow_writer.c copies a
known number of pages)."""
from __future__ import annotations

import unittest
import xml.etree.ElementTree as ET

from report_tools import cowtrace, tool, workdir

EXIT_COW, EXIT_MEMORY, EXIT_PROCESSES, EXIT_USAGE = 4, 8, 16, 2
MiB = 1 << 20


class RunBudgets(unittest.TestCase):
    def setUp(self):
        self.dir = workdir()

    def run_traced(self, budgets: list[str], command: list[str], quiet: bool = True):
        trace = self.dir / "run.trace"
        out = cowtrace("run", *(["-q"] if quiet else []), "-o", str(trace), *budgets, "--", *command,
                       cwd=self.dir)
        return out.returncode, out.stdout.decode(errors="replace"), out.stderr.decode(errors="replace"), trace

    def cow_writer(self, *args: str) -> list[str]:
        return [tool("COW_WRITER"), *args]


class RunProcessBudgets(RunBudgets):
    # cow_writer with 3 children that copy nothing: 4 processes.
    def three_children(self):
        return self.cow_writer("--children", "3", "--child-writes", "0", "--hold-ms", "0", "--share", "1")

    def test_too_many_processes_fails_after_the_command(self):
        status, _, err, trace = self.run_traced(["--max-processes", "3"], self.three_children())
        self.assertEqual(status, EXIT_PROCESSES, err)
        self.assertIn("FAILED --max-processes 3: the run was limited to 3 processes but had 4", err)
        self.assertTrue(trace.exists())
        # The trace says the same when checked afterwards.
        self.assertEqual(cowtrace("check", str(trace), "--max-processes", "3").returncode, EXIT_PROCESSES)

    def test_a_budget_met_keeps_the_commands_status(self):
        status, _, err, _ = self.run_traced(["--max-processes", "4"], self.three_children(), quiet=False)
        self.assertEqual(status, 0, err)
        self.assertIn("passed --max-processes 4", err)
        status, _, err, _ = self.run_traced(["--max-processes", "4"], self.three_children())
        self.assertEqual((status, err), (0, ""), "--quiet prints only failures")

    def test_the_commands_own_failure_wins(self):
        status, _, err, _ = self.run_traced(["--max-processes", "1"], ["/bin/sh", "-c", "/bin/true; exit 3"])
        self.assertEqual(status, 3, err)
        self.assertIn("FAILED --max-processes", err)

    def test_leftover_processes(self):
        status, _, err, _ = self.run_traced(["--no-leftover-processes"],
                                            self.cow_writer("--children", "0", "--orphan-ms", "400", "--share", "1"))
        self.assertEqual(status, EXIT_PROCESSES, err)
        self.assertIn("FAILED --no-leftover-processes", err)
        self.assertIn("after the command", err)
        status, _, err, _ = self.run_traced(["--no-leftover-processes"],
                                            self.cow_writer("--children", "1", "--child-writes", "0", "--share", "1"))
        self.assertEqual(status, 0, err)

    def test_junit_from_run(self):
        junit = self.dir / "run.xml"
        status, _, err, _ = self.run_traced(["--max-processes", "2", "--junit", str(junit)], self.three_children())
        self.assertEqual(status, EXIT_PROCESSES, err)
        case = ET.parse(junit).getroot().find("testsuite/testcase")
        self.assertEqual(case.get("name"), "max-processes")
        self.assertIsNotNone(case.find("failure"))

    def test_budget_values_are_checked_before_the_command_runs(self):
        marker = self.dir / "ran"
        status, _, err, _ = self.run_traced(["--max-cow", "lots"], ["/bin/touch", str(marker)])
        self.assertEqual(status, EXIT_USAGE, err)
        self.assertFalse(marker.exists())
        status, _, err, _ = self.run_traced(["--no-cow", "--max-cow", "1MiB"], ["/bin/touch", str(marker)])
        self.assertEqual(status, EXIT_USAGE, err)
        self.assertFalse(marker.exists())


class RunCowBudgets(RunBudgets):
    """A child writes 12 of 32 shared MiB: the census must see about 12 MiB copied."""

    def writer(self):
        return self.cow_writer("--share", "32", "--child-writes", "12", "--hold-ms", "300")

    def test_a_fork_that_copies_more_than_allowed_fails(self):
        status, _, err, _ = self.run_traced(["--max-cow", "8MiB"], self.writer())
        self.assertEqual(status, EXIT_COW, err)
        failed = next(l for l in err.splitlines() if "FAILED --max-cow" in l)
        self.assertIn("limited to 8.0 MiB", failed)
        offender = next(l for l in err.splitlines() if l.startswith("    pid"))
        self.assertIn("cow_writer", offender)
        self.assertIn("from fork() in pid", offender)

    def test_a_fork_within_its_budget_passes(self):
        status, _, err, _ = self.run_traced(["--max-cow", "20MiB"], self.writer())
        self.assertEqual(status, 0, err)

    def test_copy_ratio(self):
        self.assertEqual(self.run_traced(["--max-cow-ratio", "20"], self.writer())[0], EXIT_COW)
        self.assertEqual(self.run_traced(["--max-cow-ratio", "60%"], self.writer())[0], 0)


class RunMemoryBudgets(RunBudgets):
    def writer(self):
        return self.cow_writer("--share", "48", "--child-writes", "8", "--hold-ms", "400")

    def test_rss_budget(self):
        status, _, err, _ = self.run_traced(["--max-rss", "32MiB"], self.writer())
        self.assertEqual(status, EXIT_MEMORY, err)
        self.assertIn("FAILED --max-rss 32.0 MiB", err)
        self.assertEqual(self.run_traced(["--max-rss", "1GiB"], self.writer())[0], 0)

    def test_tree_pss_budget(self):
        status, _, err, _ = self.run_traced(["--max-tree-pss", "40MiB"], self.writer())
        self.assertEqual(status, EXIT_MEMORY, err)
        self.assertIn("FAILED --max-tree-pss 40.0 MiB", err)
        self.assertEqual(self.run_traced(["--max-tree-pss", "1GiB"], self.writer())[0], 0)


if __name__ == "__main__":
    unittest.main()

"""`cowtrace check` on synthetic traces whose figures are known: a budget the trace breaks fails
with what was limited, what happened and who did it, and the documented exit status; a budget it
meets passes; JUnit XML carries the same verdicts."""
from __future__ import annotations

import unittest
import xml.etree.ElementTree as ET

import expectations as expect
from report_tools import cowtrace, synthetic, workdir

EXIT_COW, EXIT_MEMORY, EXIT_PROCESSES, EXIT_BAD_INPUT, EXIT_USAGE = 4, 8, 16, 1, 2


class Budgets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = workdir()
        cls.trace, cls.truth = synthetic("fork-server", cls.dir)
        cls.worst = max(cls.truth["episodes"], key=lambda e: e["copied_bytes_peak"])

    def check(self, *args: str, trace=None):
        out = cowtrace("check", str(trace or self.trace), *args)
        return out.returncode, out.stdout.decode(errors="replace"), out.stderr.decode(errors="replace")


class CheckBudgets(Budgets):
    def test_max_cow_exceeded_names_the_episode_its_command_and_call_site(self):
        limit = self.worst["copied_bytes_peak"] - 1
        status, out, _ = self.check("--max-cow", f"{limit}B")
        self.assertEqual(status, EXIT_COW, out)
        failed = [l for l in out.splitlines() if "FAILED --max-cow" in l]
        self.assertEqual(len(failed), 1, out)
        self.assertIn(f"limited to {expect.format_bytes(limit)}", failed[0])
        self.assertIn(f"pid {self.worst['child']} copied {expect.format_bytes(self.worst['copied_bytes_peak'])}",
                      failed[0])
        offender = next(l for l in out.splitlines() if l.startswith("    pid"))
        self.assertIn(f"pid {self.worst['child']}", offender)
        self.assertIn(expect.name_of(self.truth, self.worst["child"]), offender)
        self.assertIn(f"in pid {self.worst['parent']}", offender)
        first_frame = self.truth["symbols"][f"{self.worst['parent']}:{expect.processes_by_pid(self.truth)[self.worst['child']]['call_site'][0]}"]
        self.assertIn(first_frame, offender)
        over = [e for e in self.truth["episodes"] if e["copied_bytes_peak"] > limit]
        self.assertEqual(len([l for l in out.splitlines() if l.startswith("    pid")]), len(over))

    def test_max_cow_met_passes(self):
        status, out, _ = self.check("--max-cow", f"{self.worst['copied_bytes_peak']}B")
        self.assertEqual(status, 0, out)
        self.assertIn("passed --max-cow", out)
        self.assertIn("all 1 budget met", out)

    def test_decimal_and_binary_units(self):
        peak = self.worst["copied_bytes_peak"]
        below_mb, above_mb = peak // 1_000_000, peak // 1_000_000 + 1
        self.assertEqual(self.check("--max-cow", f"{below_mb}MB")[0], EXIT_COW)
        self.assertEqual(self.check("--max-cow", f"{above_mb}MB")[0], 0)
        self.assertEqual(self.check("--max-cow", f"{peak / 1024 - 1:.0f}KiB")[0], EXIT_COW)
        self.assertEqual(self.check("--max-cow", f"{peak / 2**30:.6f}GiB")[0], 0)

    def test_max_cow_ratio(self):
        ratio = max(100 * e["copied_bytes_peak"] / e["shared_bytes_at_fork"] for e in self.truth["episodes"])
        status, out, _ = self.check("--max-cow-ratio", f"{ratio - 1:.1f}%")
        self.assertEqual(status, EXIT_COW, out)
        self.assertIn("FAILED --max-cow-ratio", out)
        self.assertEqual(self.check("--max-cow-ratio", f"{ratio + 1:.1f}")[0], 0)

    def test_max_rss(self):
        pid, rss = expect.peak_rss(self.truth)
        status, out, _ = self.check("--max-rss", f"{rss - 1}B")
        self.assertEqual(status, EXIT_MEMORY, out)
        self.assertIn(f"pid {pid} reached {expect.format_bytes(rss)}", out)
        self.assertEqual(self.check("--max-rss", f"{rss}B")[0], 0)

    def test_max_tree_pss(self):
        peak = expect.tree_pss_peak(self.truth)
        status, out, _ = self.check("--max-tree-pss", f"{peak - 1}B")
        self.assertEqual(status, EXIT_MEMORY, out)
        self.assertIn(f"reached {expect.format_bytes(peak)}", out)
        self.assertEqual(self.check("--max-tree-pss", f"{peak}B")[0], 0)

    def test_max_processes(self):
        n = len(self.truth["processes"])
        status, out, _ = self.check("--max-processes", str(n - 1))
        self.assertEqual(status, EXIT_PROCESSES, out)
        self.assertIn(f"limited to {n - 1} processes but had {n}", out)
        self.assertEqual(self.check("--max-processes", str(n))[0], 0)

    def test_leftover_processes(self):
        self.assertEqual(self.check("--no-leftover-processes")[0], 0)
        trace, truth = synthetic("leftover", self.dir)
        status, out, _ = self.check("--no-leftover-processes", trace=trace)
        self.assertEqual(status, EXIT_PROCESSES, out)
        root_end = next(p for p in truth["processes"] if p["pid"] == truth["root_pid"])["end_ns"]
        late = {p["pid"] for p in truth["processes"] if p["pid"] != truth["root_pid"]
                and (p["end_ns"] is None or p["end_ns"] > root_end)}
        named = {int(l.split()[1]) for l in out.splitlines() if l.startswith("    pid")}
        self.assertEqual(named, late)
        self.assertIn("still running", out)

    def test_failures_of_several_kinds_add_up(self):
        pid, rss = expect.peak_rss(self.truth)
        status, out, _ = self.check("--max-cow", "1KiB", "--max-rss", f"{rss - 1}B", "--max-processes", "1000")
        self.assertEqual(status, EXIT_COW | EXIT_MEMORY, out)
        self.assertIn("2 of 3 budgets failed", out)

    def test_a_trace_without_census_cannot_pass_a_cow_budget(self):
        trace, _ = synthetic("no-census", self.dir)
        status, out, _ = self.check("--max-cow", "1GiB", "--max-rss", "1GiB", "--max-processes", "100", trace=trace)
        self.assertEqual(status, EXIT_COW | EXIT_MEMORY, out)
        self.assertIn("cannot be checked", out)

    def test_usage_errors(self):
        for args in (["--max-cow", "12XB"], ["--max-cow", "-1MiB"], ["--max-cow-ratio", "150"],
                     ["--max-processes", "many"], []):
            status, out, err = self.check(*args)
            self.assertEqual(status, EXIT_USAGE, (args, out, err))
            self.assertEqual(out, "")

    def test_an_unreadable_trace(self):
        junk = self.dir / "junk.trace"
        junk.write_bytes(b"COWTRACX" + bytes(100))
        status, out, err = self.check("--max-cow", "1MiB", trace=junk)
        self.assertEqual(status, EXIT_BAD_INPUT)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertTrue(err.startswith("cowtrace check: "), err)


class CheckJunit(Budgets):
    def junit(self, *args: str, trace=None) -> tuple[int, ET.Element]:
        path = self.dir / "budgets.xml"
        path.unlink(missing_ok=True)
        status, _, _ = self.check(*args, "--junit", str(path), trace=trace)
        return status, ET.parse(path).getroot()

    def test_a_testcase_per_budget_and_a_failure_for_each_broken_one(self):
        status, root = self.junit("--max-cow", "1KiB", "--max-rss", "1TiB", "--no-leftover-processes")
        self.assertEqual(status, EXIT_COW)
        suite = root.find("testsuite")
        cases = {c.get("name"): c for c in suite.findall("testcase")}
        self.assertEqual(set(cases), {"max-cow", "max-rss", "no-leftover-processes"})
        self.assertEqual((suite.get("tests"), suite.get("failures"), suite.get("errors")), ("3", "1", "0"))
        failure = cases["max-cow"].find("failure")
        self.assertIsNotNone(failure)
        self.assertIn("limited to 1.0 KiB", failure.get("message"))
        self.assertIn(f"pid {self.worst['child']}", failure.text)
        self.assertIsNone(cases["max-rss"].find("failure"))

    def test_hostile_command_lines_stay_well_formed_xml(self):
        # Every episode offends, the one whose command holds markup and bytes that are not UTF-8 too.
        status, root = self.junit("--max-cow", "1B")
        self.assertEqual(status, EXIT_COW)
        text = root.find("testsuite/testcase/failure").text
        self.assertIn("</script>", text)
        self.assertIn("\ufffd", text)

    def test_an_unmeasurable_budget_is_an_error(self):
        trace, _ = synthetic("no-census", self.dir)
        status, root = self.junit("--max-cow", "1GiB", trace=trace)
        self.assertEqual(status, EXIT_COW)
        case = root.find("testsuite/testcase")
        self.assertIsNotNone(case.find("error"))
        self.assertEqual(root.find("testsuite").get("errors"), "1")

    def test_an_unwritable_junit_file_exits_1(self):
        out = cowtrace("check", str(self.trace), "--max-cow", "1GiB", "--junit", str(self.dir / "no" / "dir.xml"))
        self.assertEqual(out.returncode, EXIT_BAD_INPUT)
        self.assertIn(b"cannot write", out.stderr)


if __name__ == "__main__":
    unittest.main()

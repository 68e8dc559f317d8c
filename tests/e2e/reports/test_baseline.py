"""CI baselines on real runs: cow_writer.c traced twice under `cowtrace run`. The second run's
child copies 30 % more (--child-writes 26 instead of 20 of 64 MiB): `cowtrace check --baseline`
fails naming that fork (its call site and pid), in text, JSON and JUnit; the same program run
twice passes; `cowtrace diff` lines the two runs up."""
from __future__ import annotations

import json
import unittest
import xml.etree.ElementTree as ET

from report_tools import cowtrace, tool, workdir

EXIT_COW, EXIT_MEMORY, EXIT_PROCESSES, EXIT_USAGE = 4, 8, 16, 2
MiB = 1 << 20
BUDGETS = ["--max-cow-growth", "10%", "--max-rss-growth", "10%", "--max-processes-growth", "0"]


def traced_writer(directory, name: str, child_writes: int):
    trace = directory / f"{name}.trace"
    out = cowtrace("run", "-q", "-o", str(trace), "--", tool("COW_WRITER"), "--share", "64",
                   "--child-writes", str(child_writes), "--hold-ms", "400", "--children", "1")
    if out.returncode != 0:
        raise AssertionError(f"cowtrace run exited {out.returncode}: {out.stderr.decode(errors='replace')}")
    return trace


def forks_of(trace) -> list[dict]:
    out = cowtrace("report", str(trace), "--format", "json")
    return json.loads(out.stdout)["forks"]


class Baseline(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = workdir()
        cls.old = traced_writer(cls.dir, "old", 20)
        cls.same = traced_writer(cls.dir, "same", 20)
        cls.grown = traced_writer(cls.dir, "grown", 26)
        # The premise: each run measured its one fork, and the copies are as written.
        for trace, mib in ((cls.old, 20), (cls.same, 20), (cls.grown, 26)):
            forks = forks_of(trace)
            assert len(forks) == 1 and forks[0]["census"] == "measured", forks
            assert abs(forks[0]["copied_bytes_peak"] - mib * MiB) < MiB, forks[0]["copied_bytes_peak"]
        cls.grown_child = forks_of(cls.grown)[0]["child"]
        cls.old_child = forks_of(cls.old)[0]["child"]

    def check(self, new, *args: str):
        out = cowtrace("check", str(new), "--baseline", str(self.old), *args)
        return out.returncode, out.stdout.decode(errors="replace"), out.stderr.decode(errors="replace")


class CheckBaseline(Baseline):
    def test_the_same_program_passes(self):
        status, out, err = self.check(self.same, *BUDGETS)
        self.assertEqual(status, 0, out + err)
        self.assertIn("passed --max-cow-growth 10%", out)
        self.assertIn("all 3 budgets met", out)

    def test_a_fork_that_copies_30_percent_more_fails_naming_that_fork(self):
        status, out, err = self.check(self.grown, *BUDGETS)
        self.assertEqual(status, EXIT_COW, out + err)
        failed = [l for l in out.splitlines() if l.startswith("cowtrace check: FAILED")]
        self.assertEqual(len(failed), 1, out)
        line = failed[0]
        self.assertIn("FAILED --max-cow-growth 10%", line)
        self.assertIn("cow_writer fork at main (", line)  # the call site, symbolized
        self.assertIn(f"(pid {self.grown_child})", line)
        self.assertIn(f"over the baseline's 20.0 MiB (pid {self.old_child})", line)
        growth = float(line.split("), +")[1].split("%")[0])
        self.assertAlmostEqual(growth, 30.0, delta=1.0)
        offender = next(l for l in out.splitlines() if l.startswith("    cow_writer fork at main ("))
        self.assertIn(f"pid {self.grown_child} `", offender)
        self.assertIn("--child-writes 26", offender)
        self.assertIn("passed --max-rss-growth 10%", out)

    def test_a_looser_budget_passes(self):
        status, out, err = self.check(self.grown, "--max-cow-growth", "40%")
        self.assertEqual(status, 0, out + err)

    def test_json(self):
        out = cowtrace("check", str(self.grown), "--baseline", str(self.old), *BUDGETS, "--format", "json")
        self.assertEqual(out.returncode, EXIT_COW, out.stderr)
        doc = json.loads(out.stdout)
        self.assertEqual(doc["status"], EXIT_COW)
        self.assertEqual(doc["baseline"], str(self.old))
        verdicts = {r["name"]: r["verdict"] for r in doc["results"]}
        self.assertEqual(verdicts, {"max-cow-growth": "exceeded", "max-rss-growth": "met",
                                    "max-processes-growth": "met"})
        cow = next(r for r in doc["results"] if r["name"] == "max-cow-growth")
        self.assertIn(f"pid {self.grown_child}", cow["summary"])
        self.assertEqual(len(cow["offenders"]), 1)

    def test_junit(self):
        junit = self.dir / "baseline.xml"
        status, _, _ = self.check(self.grown, *BUDGETS, "--junit", str(junit))
        self.assertEqual(status, EXIT_COW)
        root = ET.parse(junit).getroot()
        suite = root.find("testsuite")
        self.assertEqual(suite.get("failures"), "1")
        props = {p.get("name"): p.get("value") for p in suite.find("properties")}
        self.assertEqual(props["baseline"], str(self.old))
        case = next(c for c in suite.findall("testcase") if c.get("name") == "max-cow-growth")
        failure = case.find("failure")
        self.assertIsNotNone(failure)
        self.assertIn("cow_writer fork at main (", failure.get("message"))
        self.assertIn(f"pid {self.grown_child}", failure.text)

    def test_usage_errors(self):
        for args in (["--max-cow-growth", "10%"],  # no baseline
                     ["--baseline", str(self.old)],  # no growth budget
                     ["--baseline", str(self.old), "--max-cow-growth", "ten"]):
            out = cowtrace("check", str(self.grown), *args)
            self.assertEqual(out.returncode, EXIT_USAGE, (args, out.stderr))


class DiffRuns(Baseline):
    def test_text_shows_what_grew_and_from_where(self):
        out = cowtrace("diff", str(self.old), str(self.grown))
        self.assertEqual(out.returncode, 0, out.stderr)
        text = out.stdout.decode()
        site = next(l for l in text.splitlines() if "cow_writer fork at main (" in l)
        self.assertTrue(site.lstrip().startswith("+"), site)
        self.assertIn(f"20.0 MiB (pid {self.old_child}) → 26.0 MiB (pid {self.grown_child})", site)
        self.assertIn("1 → 1 forks", site)
        self.assertIn("processes: 2 → 2", text)
        self.assertIn("(OLD ran `", text)  # the command lines differ: lined up by program

    def test_json(self):
        out = cowtrace("diff", str(self.old), str(self.grown), "--format", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        doc = json.loads(out.stdout)
        self.assertEqual(doc["old"]["processes"], 2)
        self.assertEqual(doc["growth"]["processes"], 0)
        sites = [s for s in doc["fork_sites"] if s["old"] and s["new"]]
        self.assertEqual(len(sites), 1, doc["fork_sites"])
        site = sites[0]
        self.assertEqual(site["program"], "cow_writer")
        self.assertEqual(site["new"]["largest_child"], self.grown_child)
        self.assertAlmostEqual(site["largest_copied_growth_percent"], 30.0, delta=1.0)
        self.assertEqual(site["old"]["largest_copied_bytes"], forks_of(self.old)[0]["copied_bytes_peak"])

    def test_a_trace_against_itself_grew_nothing(self):
        out = cowtrace("diff", str(self.old), str(self.old), "--format", "json")
        doc = json.loads(out.stdout)
        for site in doc["fork_sites"]:
            self.assertEqual(site["largest_copied_growth_percent"], 0.0)
        for group in doc["processes"]:
            self.assertFalse(group["matched_by_program_only"])


if __name__ == "__main__":
    unittest.main()

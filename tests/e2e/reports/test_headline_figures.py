"""The run's headline copy-on-write figures on a real run: children forked one after the other
never hold their copies at the same time, so what was copied at once is one child's copy, while
what was copied in all is every child's summed. The JSON summary, the text report and
`--max-cow-concurrent` agree with the episodes' own figures."""
from __future__ import annotations

import json
import unittest

import expectations as expect
from report_tools import cowtrace, dump_dom, parse_html, report, tool, workdir

EXIT_COW = 4
MIB = 1 << 20
CHILDREN = 3


class HeadlineFigures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = workdir()
        cls.trace = cls.dir / "sequential.trace"
        # Three children, one at a time, each writing 8 MiB of the 32 MiB it shares.
        out = cowtrace("run", "-q", "-o", str(cls.trace), "--", tool("COW_WRITER"), "--share",
                       "32", "--child-writes", "8", "--hold-ms", "400", "--children",
                       str(CHILDREN))
        assert out.returncode == 0, out.stderr
        cls.model = json.loads(report(cls.trace, "json"))
        cls.summary = cls.model["summary"]
        cls.forks = [f for f in cls.model["forks"] if f["census"] == "measured"]

    def test_the_episodes_were_measured_one_after_the_other(self):
        self.assertEqual(len(self.forks), CHILDREN, self.model["forks"])
        for f in self.forks:
            self.assertGreaterEqual(f["copied_bytes_peak"], 8 * MIB)
        ordered = sorted(self.forks, key=lambda f: f["t_ns"])
        for a, b in zip(ordered, ordered[1:]):
            self.assertLessEqual(a["end_ns"], b["t_ns"], "children overlap: the test needs them apart")

    def test_in_all_is_the_sum_and_at_once_is_the_largest_single_copy(self):
        peaks = [f["copied_bytes_peak"] for f in self.forks]
        self.assertEqual(self.summary["copied_bytes_total"], sum(peaks))
        self.assertEqual(self.summary["copied_bytes_peak_concurrent"], max(peaks))
        worst = max(self.forks, key=lambda f: f["copied_bytes_peak"])
        t = self.summary["copied_bytes_peak_concurrent_t_ns"]
        self.assertTrue(worst["t_ns"] <= t <= worst["end_ns"], (t, worst["t_ns"], worst["end_ns"]))
        self.assertEqual(self.summary["fork_episodes_measured"], CHILDREN)

    def test_the_text_report_says_both_and_what_they_mean(self):
        text = report(self.trace, "text").decode()
        line = next(l for l in text.splitlines() if "copied at once" in l)
        self.assertIn("in all (each fork's peak, summed)", line)

    def test_the_html_page_shows_both_cards(self):
        page = self.dir / "sequential.html"
        page.write_bytes(report(self.trace, "html"))
        dom = parse_html(dump_dom(page, self.dir))
        cards = {d.attrs["data-card"]: d for d in dom.find_all("div") if "data-card" in d.attrs}
        at_once = cards["Copied at once"].find_all("div", cls="value")[0].text()
        in_all = cards["Copied in all"].find_all("div", cls="value")[0].text()
        self.assertEqual(at_once, expect.format_bytes(self.summary["copied_bytes_peak_concurrent"]))
        self.assertEqual(in_all, expect.format_bytes(self.summary["copied_bytes_total"]))

    def test_the_concurrent_budget_judges_what_was_held_at_once(self):
        at_once = self.summary["copied_bytes_peak_concurrent"]
        # Met at what one child copied, although the three together copied three times as much.
        out = cowtrace("check", str(self.trace), "--max-cow-concurrent", f"{at_once}B")
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertIn(b"passed --max-cow-concurrent", out.stdout)
        out = cowtrace("check", str(self.trace), "--max-cow-concurrent", f"{at_once - 1}B")
        self.assertEqual(out.returncode, EXIT_COW, out.stdout)
        text = out.stdout.decode()
        self.assertIn("FAILED --max-cow-concurrent", text)
        self.assertIn("(1 fork alive then)", text)
        worst = max(self.forks, key=lambda f: f["copied_bytes_peak"])
        offender = next(l for l in text.splitlines() if l.startswith("    "))
        self.assertIn(f"pid {worst['child']}", offender)

    def test_a_bad_size_is_refused(self):
        out = cowtrace("check", str(self.trace), "--max-cow-concurrent", "lots")
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn(b"--max-cow-concurrent", out.stderr)


if __name__ == "__main__":
    unittest.main()

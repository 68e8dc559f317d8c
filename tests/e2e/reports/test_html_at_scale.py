"""Reports of a real run of 10,000 processes (issue 15): a shell loop's `true` children are one
folded group in the HTML page, drawn by headless Chromium, and one track in the Perfetto trace;
the page stays small. The run is traced once for the whole class."""
from __future__ import annotations

import json
import unittest

import expectations as expect
from report_tools import cowtrace, dump_dom, group_pids, parse_html, report, tree_pids, workdir

LOOP = 10_000
# The target for a 10,000-process page (the old page was 38 MB).
MAX_PAGE_BYTES = 3 * 1024 * 1024


class HtmlAtTenThousandProcesses(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = workdir()
        cls.trace = cls.dir / "loop.trace"
        # The loop's children exec within a millisecond: none is measured unless the
        # collector happens to read one first. The subshell after it lives 300 ms without an
        # exec of its own (it forks sleep), so one fork is always measured and the page has a
        # concurrent peak to show.
        out = cowtrace("run", "-q", "-o", str(cls.trace), "--", "bash", "-c",
                       f"for i in $(seq {LOOP}); do /bin/true; done; (sleep 0.3; true)",
                       timeout=780)
        assert out.returncode == 0, out.stderr.decode(errors="replace")
        cls.model = json.loads(report(cls.trace, "json"))
        cls.trues = {p["pid"] for p in cls.model["processes"] if p["name"] == "true"}
        cls.page = cls.dir / "loop.html"
        cls.page.write_bytes(report(cls.trace, "html"))
        cls.dom = parse_html(dump_dom(cls.page, cls.dir))

    def test_the_run_has_ten_thousand_true_children(self):
        self.assertEqual(len(self.trues), LOOP)

    def test_the_page_drew_itself_and_is_small(self):
        body = self.dom.find_all("body")[0]
        self.assertEqual(body.attrs.get("data-rendered"), "ok", self.dom.by_id("errors").text())
        self.assertLessEqual(self.page.stat().st_size, MAX_PAGE_BYTES)

    def test_the_true_children_are_one_folded_group_of_ten_thousand(self):
        shown, groups = tree_pids(self.dom.by_id("tree"))
        trues = [li for li in groups.values()
                 if li.find_all("span", cls="pname")[0].text() == "true"]
        self.assertEqual(len(trues), 1, [li.find_all("span", cls="pname")[0].text() for li in groups.values()])
        group = trues[0]
        self.assertEqual(group.attrs["data-count"], str(LOOP))
        self.assertEqual(group.find_all("span", cls="count")[0].text(), f"{LOOP}×")
        self.assertEqual(group_pids(group), self.trues)
        self.assertFalse(shown & self.trues, "a folded child is also drawn on its own")
        self.assertLess(len(shown), 10, "only the shell and its few other children are drawn one by one")

    def test_the_page_shows_the_concurrent_peak(self):
        cards = {d.attrs["data-card"]: d for d in self.dom.find_all("div") if "data-card" in d.attrs}
        at_once = self.model["summary"]["copied_bytes_peak_concurrent"]
        self.assertIsNotNone(at_once, "no fork of the loop was measured")
        self.assertEqual(cards["Copied at once"].find_all("div", cls="value")[0].text(),
                         expect.format_bytes(at_once))
        self.assertEqual(cards["Processes"].find_all("div", cls="value")[0].text(),
                         str(len(self.model["processes"])))

    def test_the_legend_is_capped_and_the_rest_is_one_series(self):
        legend = self.dom.by_id("legend").find_all("button")
        self.assertLessEqual(len(legend), 13)
        chart = self.dom.by_id("chart-copied")
        measured = self.model["summary"]["fork_episodes_measured"]
        if measured > 12:
            self.assertEqual(len(chart.find_all("path", cls="others")), 1)
            self.assertIn(f"and {measured - 12} more", legend[-1].text())

    def test_perfetto_puts_the_loop_on_one_track(self):
        doc = json.loads(report(self.trace, "perfetto"))
        spans = [e for e in doc["traceEvents"] if e["ph"] == "X" and e.get("cat") == "process"
                 and e["args"]["pid"] in self.trues]
        self.assertEqual(len(spans), LOOP)
        self.assertEqual(len({e["pid"] for e in spans}), 1)
        self.assertLessEqual(len({e["tid"] for e in spans}), 4, "one lane, a few at most")
        names = [e for e in doc["traceEvents"] if e["ph"] == "M" and e["name"] == "process_name"]
        self.assertLess(len(names), 10)


if __name__ == "__main__":
    unittest.main()

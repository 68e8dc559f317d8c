"""`cowtrace report --format html`, opened in headless Chromium: the page must draw itself
offline (its DOM is read back with --dump-dom) and look like something (a screenshot that is
not blank). Figures on the page are compared with the synthetic trace's account."""
from __future__ import annotations

import collections
import re
import unittest

import expectations as expect
from report_tools import (dump_dom, group_pids, parse_html, png_pixels, report, screenshot, synthetic,
                          tree_pids, workdir)

CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
HOSTILE = "</script><script>alert(1)</script>"


class HtmlInChromium(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = workdir()
        cls.trace, cls.truth = synthetic("fork-server", cls.dir)
        cls.page = cls.dir / "report.html"
        cls.page.write_bytes(report(cls.trace, "html"))
        cls.raw = cls.page.read_text(encoding="utf-8", errors="replace")
        cls.source = parse_html(cls.raw)
        cls.dom = parse_html(dump_dom(cls.page, cls.dir))
        cls.episodes = {e["child"]: e for e in cls.truth["episodes"]}

    # ---- the file itself ----

    def test_page_forbids_the_network_and_loads_nothing(self):
        metas = [m for m in self.source.find_all("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"]
        self.assertEqual([m.attrs["content"] for m in metas], [CSP])
        for e in self.source.walk():
            self.assertNotIn("src", e.attrs, f"<{e.tag}> loads {e.attrs.get('src')}")
            self.assertNotIn("href", e.attrs, f"<{e.tag}> links {e.attrs.get('href')}")
        self.assertEqual(self.source.find_all("link"), [])
        urls = set(re.findall(r"https?://[^\s\"'<>)]+", self.raw))
        self.assertLessEqual(urls, {"http://www.w3.org/2000/svg"}, "only the SVG namespace name may look like a URL")
        self.assertNotRegex(self.raw, r"url\(|@import|fetch\(|XMLHttpRequest|WebSocket")

    def test_a_command_line_cannot_inject_markup(self):
        scripts = self.source.find_all("script")
        self.assertEqual(len(scripts), 2, "the data and the code, nothing a command line added")
        self.assertNotIn(HOSTILE, self.raw)
        self.assertEqual(len(self.dom.find_all("script")), 2)

    # ---- what the browser drew ----

    def test_the_page_drew_itself_without_errors(self):
        body = self.dom.find_all("body")[0]
        errors = self.dom.by_id("errors")
        self.assertEqual(body.attrs.get("data-rendered"), "ok", errors.text() if errors else "")
        self.assertIn("hidden", errors.attrs)

    def test_tree_lists_every_process_alone_or_in_its_folded_group(self):
        tree = self.dom.by_id("tree")
        shown, groups = tree_pids(tree)
        folded = set()
        for first, li in groups.items():
            pids = group_pids(li)
            self.assertIn(first, pids)
            self.assertEqual(int(li.attrs["data-count"]), len(pids))
            folded |= pids
        self.assertFalse(shown & folded)
        self.assertEqual(shown | folded, {p["pid"] for p in self.truth["processes"]})
        # A badge per fork shown alone, one per group for its members.
        covered = 0
        for badge in tree.find_all("span", cls="badge"):
            node = badge.parent
            covered += int(node.attrs["data-count"]) if "group-node" in node.classes() else 1
        self.assertEqual(covered, len(self.episodes))

    def test_alike_workers_are_one_group_with_their_figures(self):
        workers = [p for p in self.truth["processes"] if p["call_site"] and not p["argv"]
                   and sum(1 for q in self.truth["processes"] if q["call_site"] == p["call_site"]) >= 3]
        _, groups = tree_pids(self.dom.by_id("tree"))
        self.assertEqual(len(groups), 1)
        group = next(iter(groups.values()))
        self.assertEqual(group_pids(group), {w["pid"] for w in workers})
        line = group.find_all("span", cls="group-node")[0]
        self.assertEqual(line.find_all("span", cls="count")[0].text(), f"{len(workers)}×")
        self.assertEqual(line.find_all("span", cls="pname")[0].text(), expect.name_of(self.truth, workers[0]["pid"]))
        rows = {tr.find_all("td")[0].text(): [td.text() for td in tr.find_all("td")[1:]]
                for tr in group.find_all("table", cls="group-figures")[0].find_all("tbody")[0].find_all("tr")}
        peaks = sorted(self.episodes[w["pid"]]["copied_bytes_peak"] for w in workers)
        self.assertEqual(rows["Copied peak"], [expect.format_bytes(peaks[0]), expect.format_bytes(peaks[(len(peaks) - 1) // 2]),
                                               expect.format_bytes(peaks[-1]), str(len(peaks))])

    def test_timeline_has_a_line_per_episode_with_axes_and_units(self):
        for chart_id, cls in (("chart-copied", "copied"), ("chart-shared", "shared")):
            chart = self.dom.by_id(chart_id)
            self.assertIsNotNone(chart, chart_id)
            paths = chart.find_all("path", cls=cls)
            self.assertEqual(len(paths), len(self.episodes), chart_id)
            for p in paths:
                self.assertRegex(p.attrs["d"], r"^M[\d.]+ [\d.]+(H[\d.]+V[\d.]+)+$")
            y_labels = [t.text() for t in chart.find_all("g", cls="y-axis")[0].find_all("text")]
            x_labels = [t.text() for t in chart.find_all("g", cls="x-axis")[0].find_all("text")]
            for label in y_labels:
                self.assertRegex(label, r"^\d+(\.\d+)? (B|KiB|MiB|GiB)$")
            self.assertTrue(any(l.endswith("MiB") for l in y_labels), y_labels)
            for label in x_labels:
                self.assertRegex(label, r"^\d+(\.\d+)? s$")
            last = max(float(l.split()[0]) for l in x_labels)
            duration = self.truth["duration_ns"] / 1e9
            self.assertTrue(duration / 2 <= last <= duration, (last, duration))
        self.assertIsNotNone(self.dom.by_id("chart-memory"), "the trace has memory samples")
        self.assertEqual(len(self.dom.by_id("legend").find_all("button")), len(self.episodes))

    def test_episodes_are_ranked_by_copied_bytes(self):
        rows = self.dom.by_id("episodes").find_all("tr", cls="episode")
        ranked = sorted(self.truth["episodes"], key=lambda e: (-e["copied_bytes_peak"], e["t_ns"]))
        self.assertEqual([int(r.attrs["data-pid"]) for r in rows], [e["child"] for e in ranked])
        self.assertIn(expect.format_bytes(ranked[0]["copied_bytes_peak"]), rows[0].text())

    def test_a_region_table_per_episode_largest_copy_first(self):
        rows = {r.attrs["data-episode"]: int(r.attrs["data-pid"])
                for r in self.dom.by_id("episodes").find_all("tr", cls="episode")}
        tables = self.dom.find_all("table", cls="regions")
        self.assertEqual(len(tables), len(self.episodes))
        for table in tables:
            want = self.episodes[rows[table.attrs["data-episode"]]]
            names = [tr.find_all("td")[0].text() for tr in table.find_all("tbody")[0].find_all("tr")]
            ranked = sorted(want["regions"], key=lambda r: (-r["copied_bytes"], -r["shared_bytes_at_fork"]))
            self.assertEqual(names, [r["name"] for r in ranked])

    def test_call_sites_show_symbols_and_group_forks(self):
        table = self.dom.by_id("callsite-table")
        procs = expect.processes_by_pid(self.truth)
        sites = collections.Counter(tuple(procs[e["child"]]["call_site"]) for e in self.truth["episodes"])
        rows = table.find_all("tr", cls="callsite")
        self.assertEqual(len(rows), len(sites))
        self.assertEqual(sorted(int(r.find_all("td")[3].text()) for r in rows), sorted(sites.values()))
        text = table.text()
        for symbol in self.truth["symbols"].values():
            self.assertIn(symbol, text)

    def test_a_hostile_command_line_is_shown_as_text(self):
        cells = [td for td in self.dom.find_all("td", cls="cmd") if HOSTILE in td.text()]
        self.assertTrue(cells, "the command line with markup in it is shown verbatim")

    def test_screenshot_is_not_blank(self):
        width, height, pixels = png_pixels(screenshot(self.page, self.dir))
        self.assertEqual(len(pixels), width * height)
        counts = collections.Counter(pixels)
        background = counts.most_common(1)[0][1]
        self.assertGreaterEqual(len(counts), 20, "a drawn report has many colours")
        self.assertGreater(1 - background / len(pixels), 0.05, "more than the background")


if __name__ == "__main__":
    unittest.main()

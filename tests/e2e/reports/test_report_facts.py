"""Reports say every fact the trace holds, on real runs: an empty argument keeps its place, the
command that could not start has its name and its status, a damaged trace its real length, the
text report the fork call sites and a stretched sampling interval, folded groups their pids; and
the commands say why they refuse or fail (folded output with nothing to fold, an unwritable
output file, --no-cow with census options)."""
from __future__ import annotations

import json
import re
import unittest
import xml.etree.ElementTree as ET

from report_tools import cowtrace, dump_dom, parse_html, report, tool, workdir

PYTHON = "/usr/bin/python3"


def run(directory, name, *command, options=()):
    trace = directory / f"{name}.trace"
    out = cowtrace("run", "-q", "-o", str(trace), *options, "--", *command)
    return trace, out


class ReportFacts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = workdir()
        # An empty argument, and four identical forked subshells (folded in the text report).
        cls.argv_trace, out = run(cls.dir, "argv", "bash", "-c",
                                  "for i in 1 2 3 4; do (exit 0); done", "", "after-empty")
        assert out.returncode == 0, out.stderr
        # Forks whose call sites are deep (Python's interpreter) and whose copies are known.
        cls.fork_trace, out = run(cls.dir, "forks", tool("COW_WRITER"), "--share", "16",
                                  "--child-writes", "4", "--hold-ms", "300", "--children", "1")
        assert out.returncode == 0, out.stderr
        cls.python_trace, out = run(cls.dir, "python", PYTHON, "-c",
                                    "import os\nbuf = bytearray(8 << 20)\npid = os.fork()\n"
                                    "if pid == 0:\n    buf[:4 << 20] = b'x' * (4 << 20)\n"
                                    "    os._exit(0)\nos.waitpid(pid, 0)\n")
        assert out.returncode == 0, out.stderr
        cls.fork_model = json.loads(report(cls.fork_trace, "json"))

    def text(self, trace, *extra):
        return report(trace, "text", *extra).decode()

    def test_an_empty_argument_keeps_its_place_in_the_text_header(self):
        header = self.text(self.argv_trace).splitlines()[0]
        self.assertIn("'' after-empty", header)

    def test_an_empty_argument_keeps_its_place_in_the_html_header(self):
        page = self.dir / "argv.html"
        page.write_bytes(report(self.argv_trace, "html"))
        dom = parse_html(dump_dom(page, self.dir))
        self.assertIn("'' after-empty", dom.by_id("command").text())

    def test_an_empty_argument_keeps_its_place_in_the_junit_properties(self):
        junit = self.dir / "argv.xml"
        out = cowtrace("check", str(self.argv_trace), "--max-processes", "100", "--junit",
                       str(junit))
        self.assertEqual(out.returncode, 0, out.stdout)
        props = {p.get("name"): p.get("value") for p in ET.parse(junit).getroot().iter("property")}
        self.assertIn("'' after-empty", props["command"])

    def test_folded_groups_say_which_pids_they_hold(self):
        text = self.text(self.argv_trace)
        group = [line for line in text.splitlines() if "4*[bash]" in line]
        self.assertEqual(len(group), 1, text)
        model = json.loads(report(self.argv_trace, "json"))
        subshells = [p["pid"] for p in model["processes"] if p["pid"] != model["root_pid"]]
        self.assertEqual(len(subshells), 4, model["processes"])
        listed = set()
        for item in group[0].split("pids ", 1)[-1].split(", "):
            first, _, last = item.partition("–")  # a run of consecutive pids: first–last
            if first.isdigit():
                listed.update(range(int(first), int(last or first) + 1))
        self.assertEqual(listed, set(subshells), group[0])

    def test_the_text_report_shows_fork_call_sites(self):
        text = self.text(self.fork_trace)
        episode = self.fork_model["forks"][0]
        frames = [f["symbol"] for f in episode["call_site"] if "symbol" in f]
        self.assertTrue(frames, episode["call_site"])
        self.assertIn("call site", text)
        self.assertIn(frames[0], text)

    def test_the_html_call_site_list_numbers_every_frame(self):
        model = json.loads(report(self.python_trace, "json"))
        deep = max((len(f["call_site"]) for f in model["forks"]), default=0)
        self.assertGreaterEqual(deep, 11, "the test needs a call site of more than ten frames")
        page = self.dir / "python.html"
        page.write_bytes(report(self.python_trace, "html"))
        dom = parse_html(dump_dom(page, self.dir))
        lists = [ol for ol in dom.find_all("ol", cls="frames")]
        longest = max(lists, key=lambda ol: len(ol.find_all("li")))
        numbers = [li.find_all(cls="frame-number")[0].text().strip()
                   for li in longest.find_all("li")]
        self.assertEqual(numbers, [f"{k}." for k in range(1, len(numbers) + 1)])

    def test_a_command_that_could_not_start_has_its_name_and_status(self):
        trace, out = run(self.dir, "nostart", "/nonexistent/program-x", "arg")
        self.assertEqual(out.returncode, 127)
        text = self.text(trace)
        line = [l for l in text.splitlines() if l.startswith("program-x(")]
        self.assertEqual(len(line), 1, text)
        self.assertIn("exit 127", line[0])
        self.assertNotIn("?(", text)
        model = json.loads(report(trace, "json"))
        root = [p for p in model["processes"] if p["pid"] == model["root_pid"]]
        self.assertEqual(len(root), 1, model["processes"])
        self.assertEqual((root[0]["exit"] or {}).get("code"), 127, root[0])
        self.assertEqual(root[0]["name"], "program-x")

    def test_a_damaged_trace_has_its_length(self):
        data = self.fork_trace.read_bytes()
        cut = self.dir / "cut.trace"
        cut.write_bytes(data[: len(data) * 3 // 4])
        header = self.text(cut).splitlines()[0]
        seconds = float(re.search(r" in (\d+\.\d+)s", header).group(1))
        self.assertGreater(seconds, 0.0, header)

    def test_the_text_report_says_sampling_was_stretched(self):
        # A census of 192 MiB every 10 ms costs more than 2 % of a core: the interval stretches.
        trace, out = run(self.dir, "stretched", tool("COW_WRITER"), "--share", "192",
                         "--child-writes", "8", "--hold-ms", "1500", "--children", "1",
                         options=("--interval", "10ms"))
        self.assertEqual(out.returncode, 0, out.stderr)
        model = json.loads(report(trace, "json"))["trace"]
        self.assertGreater(model["sampling_interval_ns"], 10_000_000,
                           "the test needs a stretched interval")
        text = self.text(trace)
        stretched_ms = model["sampling_interval_ns"] // 1_000_000
        self.assertRegex(text, rf"sampling interval .*stretched.* {stretched_ms} ms")
        # and how far apart the samples usually were (the largest interval is one round's)
        forks = json.loads(report(trace, "json"))["forks"]
        gaps = sorted(b["t_ns"] - a["t_ns"] for f in forks
                      for a, b in zip(f["samples"], f["samples"][1:]))
        self.assertIn(f"samples were usually {gaps[len(gaps) // 2] // 1_000_000} ms apart", text)

    def test_a_larger_cpu_share_keeps_the_interval(self):
        # The same run with a quarter of a core to spend: the interval holds. Each round of
        # estimates pays for its own interval, so one costly round (an episode's first, or one
        # slowed by a loaded machine) stretches the tick after it only: the samples' usual gap
        # is the interval (a 2 % share stretches it throughout, test above).
        trace, out = run(self.dir, "unstretched", tool("COW_WRITER"), "--share", "192",
                         "--child-writes", "8", "--hold-ms", "1500", "--children", "1",
                         options=("--interval", "10ms", "--cpu-share", "25%"))
        self.assertEqual(out.returncode, 0, out.stderr)
        forks = json.loads(report(trace, "json"))["forks"]
        times = [s["t_ns"] for f in forks for s in f["samples"]]
        self.assertGreater(len(times), 50, "the test needs an episode sampled throughout")
        gaps = sorted(b - a for a, b in zip(times, times[1:]))
        self.assertLess(gaps[len(gaps) // 2], 12_000_000, gaps)

    def test_a_cpu_share_that_is_no_share_is_refused(self):
        for text in ("0", "0%", "150%", "lots", "-5%", ""):
            out = cowtrace("run", "-q", "-o", str(self.dir / "share.trace"), "--cpu-share", text,
                           "--", "true")
            self.assertEqual(out.returncode, 2, (text, out.stderr))
            self.assertIn(b"--cpu-share", out.stderr, text)

    def test_folded_output_with_nothing_to_fold_says_why(self):
        trace, out = run(self.dir, "true", "true")
        self.assertEqual(out.returncode, 0)
        out = cowtrace("report", str(trace), "--format", "folded")
        self.assertEqual(out.stdout, b"")
        self.assertIn(b"no fork", out.stderr)

    def test_an_unwritable_output_says_why(self):
        out = cowtrace("report", str(self.fork_trace), "-o", "/nonexistent/dir/report.txt")
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"No such file or directory", out.stderr)

    def test_no_cow_refuses_census_options(self):
        for option in (("--mode", "exact"), ("--interval", "50ms"), ("--cpu-share", "5%")):
            out = cowtrace("run", "-q", "-o", str(self.dir / "nocow.trace"), "--no-cow", *option,
                           "--", "true")
            self.assertEqual(out.returncode, 2, (option, out.stderr))
            self.assertIn(b"--no-cow", out.stderr)
            self.assertIn(option[0].encode(), out.stderr)


if __name__ == "__main__":
    unittest.main()

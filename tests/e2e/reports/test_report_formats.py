"""`cowtrace report` in every format but HTML (see test_html_report.py), each read back by the
kind of program that consumes it, and compared with what the synthetic trace holds."""
from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import unittest
from pathlib import Path

import expectations as expect
from report_tools import cowtrace, report, synthetic, tool, workdir


class Scenario(unittest.TestCase):
    scenario = "fork-server"

    @classmethod
    def setUpClass(cls):
        cls.dir = workdir()
        cls.trace, cls.truth = synthetic(cls.scenario, cls.dir)


class JsonReport(Scenario):
    def setUp(self):
        self.model = json.loads(report(self.trace, "json"))

    def test_contract_fields_are_present(self):
        for key in ("root_pid", "processes", "forks", "trace"):
            self.assertIn(key, self.model)
        for p in self.model["processes"]:
            for key in ("pid", "ppid", "start_ns", "end_ns", "execs", "exit", "how", "argv", "call_site", "flags",
                        "name", "command_line", "children"):
                self.assertIn(key, p, f"process {p.get('pid')} lacks {key}")
        for key in ("complete", "command", "duration_ns", "census_mode", "notes"):
            self.assertIn(key, self.model["trace"])

    def test_every_process_and_episode_of_the_trace_is_there(self):
        self.assertEqual({p["pid"] for p in self.model["processes"]}, {p["pid"] for p in self.truth["processes"]})
        got = {e["child"]: e for e in self.model["forks"]}
        self.assertEqual(set(got), {e["child"] for e in self.truth["episodes"]})
        for want in self.truth["episodes"]:
            e = got[want["child"]]
            for key in ("parent", "shared_bytes_at_fork", "copied_bytes_peak", "copied_bytes_final",
                        "copied_by_parent_bytes", "copied_by_child_bytes"):
                self.assertEqual(e[key], want[key], f"episode of {want['child']}: {key}")
            self.assertEqual([s["copied_bytes"] for s in e["samples"]],
                             [s["copied_bytes"] for s in want["samples"]])
            self.assertEqual({r["name"]: r["copied_bytes_final"] for r in e["regions"]},
                             {r["name"]: r["copied_bytes"] for r in want["regions"]})

    def test_children_and_child_index_point_at_the_right_processes(self):
        procs = self.model["processes"]
        for i, p in enumerate(procs):
            for c in p["children"]:
                self.assertEqual(procs[c]["ppid"], p["pid"])
        for e in self.model["forks"]:
            self.assertEqual(procs[e["child_index"]]["pid"], e["child"])

    def test_symbols_are_attached_to_call_sites(self):
        snapshot = next(e for e in self.model["forks"] if e["copied_bytes_peak"] ==
                        max(x["copied_bytes_peak"] for x in self.truth["episodes"]))
        want = [self.truth["symbols"].get(f"{snapshot['parent']}:{int(f['ip'], 16)}") for f in snapshot["call_site"]]
        self.assertEqual([f.get("symbol") for f in snapshot["call_site"]], want)
        self.assertTrue(all(want))


class PerfettoReport(Scenario):
    """The rules Perfetto's JSON importer and chrome://tracing apply (see docs/REPORTS.md)."""

    def setUp(self):
        self.doc = json.loads(report(self.trace, "perfetto"))
        self.events = self.doc["traceEvents"]
        self.by_ph = {}
        for e in self.events:
            self.by_ph.setdefault(e["ph"], []).append(e)

    def spans(self):
        """Each process's span, by its pid (a folded group's members are on the group's track)."""
        return {e["args"]["pid"]: e for e in self.by_ph["X"] if e.get("cat") == "process"}

    def folded_pids(self):
        return {pid for pid, span in self.spans().items() if "folded_in" in span["args"]}

    def test_events_are_well_formed(self):
        self.assertIsInstance(self.events, list)
        for e in self.events:
            self.assertIn(e["ph"], {"X", "M", "C", "s", "f", "i"})
            self.assertIsInstance(e["pid"], int)
            if e["ph"] != "M":
                self.assertIsInstance(e["ts"], (int, float))
                self.assertGreaterEqual(e["ts"], 0)
            if e["ph"] == "X":
                self.assertGreater(e["dur"], 0)

    def test_a_span_per_process_on_tid_equal_pid_in_microseconds(self):
        spans = self.spans()
        self.assertEqual(len(spans), len([e for e in self.by_ph["X"] if e.get("cat") == "process"]))
        for p in self.truth["processes"]:
            span = spans.get(p["pid"])
            self.assertIsNotNone(span, f"no span for {p['pid']}")
            if "folded_in" not in span["args"]:
                self.assertEqual((span["pid"], span["tid"]), (p["pid"], p["pid"]))
            self.assertAlmostEqual(span["ts"], p["start_ns"] / 1000, delta=0.01)
            if p["end_ns"] is not None:
                self.assertAlmostEqual(span["ts"] + span["dur"], p["end_ns"] / 1000, delta=0.01)
            self.assertIn("argv", span["args"])
            self.assertIn("exit", span["args"])
            if p["exit_code"] is not None:
                self.assertEqual(span["args"]["exit"], f"exit {p['exit_code']}")

    def test_spans_on_one_thread_never_overlap(self):
        # The viewers nest slices on a thread: a folded group puts members alive together on
        # separate lanes.
        by_thread = {}
        for e in self.by_ph["X"]:
            if e.get("cat") == "process":
                by_thread.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
        for thread, spans in by_thread.items():
            spans.sort()
            for (_, end), (start, _) in zip(spans, spans[1:]):
                self.assertLessEqual(end, start + 0.01, f"overlapping spans on {thread}")

    def test_alike_workers_share_one_process_track(self):
        workers = [p["pid"] for p in self.truth["processes"] if p["call_site"] and not p["argv"]
                   and sum(1 for q in self.truth["processes"] if q["call_site"] == p["call_site"]) >= 3]
        self.assertGreaterEqual(len(workers), 3)
        self.assertEqual(self.folded_pids(), set(workers))
        spans = self.spans()
        self.assertEqual({spans[w]["pid"] for w in workers}, {min(workers)})
        names = {e["pid"]: e["args"]["name"] for e in self.by_ph["M"] if e["name"] == "process_name"}
        name = expect.name_of(self.truth, workers[0])
        self.assertIn(f"{len(workers)}*[{name}]", names[min(workers)])

    def test_every_process_is_named(self):
        names = {e["pid"]: e["args"]["name"] for e in self.by_ph["M"] if e["name"] == "process_name"}
        spans = self.spans()
        for p in self.truth["processes"]:
            track = spans[p["pid"]]["pid"]
            if track == p["pid"] and "folded_in" not in spans[p["pid"]]["args"]:
                self.assertIn(str(p["pid"]), names.get(p["pid"], ""))
            self.assertIn(expect.name_of(self.truth, p["pid"]), names[track])

    def test_a_flow_from_each_creating_call_to_the_child(self):
        spans = self.spans()
        by_track = {(s["pid"], s["tid"], s["ts"]): pid for pid, s in spans.items()}
        starts = {e["id"]: e for e in self.by_ph["s"]}
        ends = {e["id"]: e for e in self.by_ph["f"]}
        self.assertEqual(set(starts), set(ends))
        calls = [e for e in self.by_ph["X"] if e.get("cat") == "create"]
        children = {p["pid"]: p for p in self.truth["processes"] if p["ppid"] != self.truth["collector_pid"]}
        flows = {}
        for ident, f in ends.items():
            self.assertIsInstance(ident, int)
            s = starts[ident]
            self.assertEqual(f["bp"], "e")
            self.assertEqual((s["cat"], s["name"]), (f["cat"], f["name"]))
            # The slice the flow ends in, on the child's track: the child's span.
            inside = [pid for (pid_, tid, ts), pid in by_track.items()
                      if (pid_, tid) == (f["pid"], f["tid"]) and ts <= f["ts"] <= ts + spans[pid]["dur"]]
            self.assertEqual(len(inside), 1, f"flow end {ident} is in no child span (or several)")
            enclosing = [c for c in calls if c["pid"] == s["pid"] and c["ts"] <= s["ts"] <= c["ts"] + c["dur"]]
            self.assertTrue(enclosing, f"flow start {ident} is not inside a call slice of {s['pid']}")
            parent = spans[s["pid"]]
            for c in enclosing:
                self.assertTrue(parent["ts"] <= c["ts"] and c["ts"] + c["dur"] <= parent["ts"] + parent["dur"] + 0.01)
            flows[inside[0]] = s["pid"]
        self.assertEqual(flows, {pid: p["ppid"] for pid, p in children.items()})

    def test_counters_for_each_episode_and_each_process_memory(self):
        cow = {}
        for e in self.by_ph["C"]:
            if e["name"] == "copy-on-write":
                cow.setdefault(e["pid"], []).append(e)
        folded = self.folded_pids()
        for want in self.truth["episodes"]:
            if want["child"] in folded:
                continue
            events = sorted(cow.get(want["child"], []), key=lambda e: e["ts"])
            self.assertTrue(events, f"no counter for the episode of {want['child']}")
            self.assertAlmostEqual(events[0]["ts"], want["t_ns"] / 1000, delta=0.01)
            self.assertEqual(events[0]["args"]["shared_bytes"], want["shared_bytes_at_fork"])
            self.assertEqual(max(e["args"]["copied_bytes"] for e in events), want["copied_bytes_peak"])
            self.assertIn("copied_by_parent_bytes", events[-1]["args"])
        # A folded group's copies are summed on its track: what its members held together.
        group = [e for e in self.truth["episodes"] if e["child"] in folded]
        self.assertTrue(group)
        copied = [e["args"]["copied_bytes"] for e in cow[min(folded)] if "copied_bytes" in e["args"]]
        self.assertEqual(max(copied), expect.summed_copied_peak(group))
        memory = {}
        for e in self.by_ph["C"]:
            if e["name"] == "memory" and {"rss_bytes", "pss_bytes"} <= set(e["args"]):
                memory.setdefault(e["pid"], set()).add((e["args"]["rss_bytes"], e["args"]["pss_bytes"]))
        for pid, samples in self.truth["memory"].items():
            self.assertLessEqual({(s["rss_bytes"], s["pss_bytes"]) for s in samples}, memory[int(pid)])
        tree = [e for e in self.by_ph["C"] if e["name"] == "tree"]
        self.assertEqual(max(e["args"]["pss_bytes"] for e in tree), expect.tree_pss_peak(self.truth))


class FoldedStacks(Scenario):
    LINE = re.compile(r"^(?P<stack>.+) (?P<count>\d+)$")

    def parse(self, text: str) -> dict[str, int]:
        out = {}
        for line in text.splitlines():
            m = self.LINE.match(line)
            self.assertIsNotNone(m, f"not a folded-stack line: {line!r}")
            self.assertNotIn(m["stack"], out, "a stack is listed twice")
            out[m["stack"]] = int(m["count"])
        return out

    def test_stacks_are_call_sites_root_first_weighted_by_copied_bytes(self):
        got = self.parse(report(self.trace, "folded").decode())
        self.assertEqual(got, expect.folded_stacks(self.truth))

    def test_symbolized_frames_are_used_and_the_rest_are_addresses(self):
        got = self.parse(report(self.trace, "folded").decode())
        frames = {f for stack in got for f in stack.split(";")}
        for symbol in self.truth["symbols"].values():
            self.assertIn(symbol, frames)
        self.assertTrue(any(re.fullmatch(r"0x[0-9a-f]+", f) for f in frames))

    def test_a_trace_without_episodes_folds_to_nothing(self):
        trace, _ = synthetic("no-census", self.dir)
        self.assertEqual(report(trace, "folded"), b"")


class TextReport(Scenario):
    def lines_under(self, text: str, pid: int) -> list[str]:
        lines = text.splitlines()
        at = next(i for i, l in enumerate(lines) if f"({pid})" in l)
        out = []
        for l in lines[at + 1:]:
            if re.search(r"\(\d+\)|\d+\*\[", l):
                break
            out.append(l)
        return out

    def test_each_fork_shows_its_copy_on_write_summary(self):
        text = report(self.trace, "text", "-c").decode()
        for e in self.truth["episodes"]:
            block = "\n".join(self.lines_under(text, e["child"]))
            self.assertIn(f"{expect.format_bytes(e['shared_bytes_at_fork'])} shared at fork", block)
            self.assertIn(f"copied peak {expect.format_bytes(e['copied_bytes_peak'])}", block)
            self.assertIn(f"final {expect.format_bytes(e['copied_bytes_final'])}", block)
            self.assertIn(f"by parent {expect.format_bytes(e['copied_by_parent_bytes'])}, "
                          f"by child {expect.format_bytes(e['copied_by_child_bytes'])}", block)
            spark = [l for l in self.lines_under(text, e["child"]) if "copied │" in l]
            self.assertEqual(len(spark), 1, block)
            bars = re.search(r"copied │(.*)│", spark[0]).group(1)
            self.assertEqual(len(bars), 32, spark[0])
            self.assertIn("█", bars, "the peak reaches the top of the sparkline")

    def test_top_regions_are_the_ones_that_copied_most(self):
        text = report(self.trace, "text", "-c").decode()
        e = max(self.truth["episodes"], key=lambda e: e["copied_bytes_peak"])
        line = next(l for l in self.lines_under(text, e["child"]) if "top regions:" in l)
        copied = sorted((r for r in e["regions"] if r["copied_bytes"] > 0), key=lambda r: -r["copied_bytes"])
        names = [r["name"] for r in copied[:3]]
        positions = [line.find(n) for n in names]
        self.assertTrue(all(p >= 0 for p in positions), line)
        self.assertEqual(positions, sorted(positions), line)

    def test_identical_siblings_are_compacted_like_pstree(self):
        text = report(self.trace, "text").decode()
        workers = [p for p in self.truth["processes"] if p["call_site"] and not p["argv"]
                   and sum(1 for q in self.truth["processes"] if q["call_site"] == p["call_site"]) >= 3]
        self.assertGreaterEqual(len(workers), 3)
        self.assertIn(f"{len(workers)}*[{expect.name_of(self.truth, workers[0]['pid'])}]", text)
        self.assertIn(f"cow ×{len(workers)}", text)
        for w in workers:
            self.assertNotIn(f"({w['pid']})", text)

    def test_arguments_with_a(self):
        root = next(p for p in self.truth["processes"] if p["pid"] == self.truth["root_pid"])

        def root_line(*flags: str) -> str:
            text = report(self.trace, "text", *flags).decode(errors="replace")
            name = expect.name_of(self.truth, root["pid"])
            return next(l for l in text.splitlines() if l.startswith(f"{name}({root['pid']})"))

        self.assertIn(" ".join(root["argv"][1:]), root_line("-a"))
        self.assertNotIn(" ".join(root["argv"][1:]), root_line())


class ProgressOnTerminal(Scenario):
    def run_on_terminal(self, delay_ms: str | None) -> tuple[int, bytes, bytes]:
        out_path = self.dir / "report.txt"
        master, slave = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k != "COWTRACE_PROGRESS_DELAY_MS"}
        if delay_ms is not None:
            env["COWTRACE_PROGRESS_DELAY_MS"] = delay_ms
        with open(out_path, "wb") as out:
            proc = subprocess.Popen([tool("COWTRACE_BIN"), "report", str(self.trace), "--format", "html"],
                                    stdout=out, stderr=slave, env=env)
        os.close(slave)
        seen = b""
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            seen += chunk
        os.close(master)
        return proc.wait(timeout=60), seen, out_path.read_bytes()

    def test_progress_is_drawn_on_a_terminal_then_erased(self):
        status, terminal, output = self.run_on_terminal("0")
        self.assertEqual(status, 0)
        self.assertIn(b"cowtrace report: reading", terminal)
        self.assertTrue(terminal.endswith(b"\r\x1b[K"), terminal[-40:])
        self.assertNotIn(b"\x1b[K", output)
        self.assertTrue(output.startswith(b"<!DOCTYPE html>"))

    def test_a_quick_report_prints_nothing_extra_on_a_terminal(self):
        status, terminal, _ = self.run_on_terminal(None)
        self.assertEqual(status, 0)
        self.assertEqual(terminal, b"")

    def test_no_progress_when_stderr_is_not_a_terminal(self):
        out = cowtrace("report", str(self.trace), "--format", "html", env={"COWTRACE_PROGRESS_DELAY_MS": "0"})
        self.assertEqual(out.returncode, 0)
        self.assertEqual(out.stderr, b"")


class BadInput(Scenario):
    def assert_one_line_error(self, out, status: int, prefix: bytes = b"cowtrace report: "):
        self.assertEqual(out.returncode, status, out.stderr)
        lines = out.stderr.decode(errors="replace").strip().splitlines()
        self.assertEqual(len(lines), 1, out.stderr)
        self.assertTrue(out.stderr.startswith(prefix), out.stderr)

    def test_a_file_that_is_not_a_trace_exits_1(self):
        junk = self.dir / "junk.trace"
        junk.write_bytes(b"this is not a trace\n" * 10)
        for fmt in ("text", "json", "perfetto", "html", "folded"):
            self.assert_one_line_error(cowtrace("report", str(junk), "--format", fmt), 1)

    def test_a_damaged_trace_shows_its_valid_part_with_a_warning(self):
        data = self.trace.read_bytes()
        cut = self.dir / "cut.trace"
        cut.write_bytes(data[: len(data) // 2 + 7])
        for fmt in ("text", "json", "perfetto", "html", "folded"):
            out = cowtrace("report", str(cut), "--format", fmt)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn(b"warning: trace damaged", out.stderr)
        json.loads(cowtrace("report", str(cut), "--format", "perfetto").stdout)

    def test_usage_errors_exit_2(self):
        self.assertEqual(cowtrace("report", str(self.trace), "--format", "svg").returncode, 2)
        self.assertEqual(cowtrace("report").returncode, 2)

    def test_a_missing_trace_exits_1(self):
        self.assert_one_line_error(cowtrace("report", str(self.dir / "missing.trace")), 1)

    def test_an_unwritable_output_exits_1(self):
        out = cowtrace("report", str(self.trace), "--format", "html", "-o", str(self.dir / "no" / "such" / "r.html"))
        self.assert_one_line_error(out, 1)


if __name__ == "__main__":
    unittest.main()

"""Fork call sites name their source lines: a program built with -g runs under `cowtrace run`,
and the JSON and text reports give each fork's call site as "function (file.c:line)", the line
found by its MARKER comment in the program's source; a fork from an inlined helper is the
helper's line, then the line in main where the helper was inlined."""
from __future__ import annotations

import json
import os
import re
import unittest
from pathlib import Path

from report_tools import cowtrace, report, tool, workdir

SOURCE = Path(__file__).with_name("forks_at_known_lines.c")


def marker_line(marker: str) -> int:
    for number, line in enumerate(SOURCE.read_text().splitlines(), start=1):
        if f"MARKER:{marker} " in line:
            return number
    raise AssertionError(f"no MARKER:{marker} in {SOURCE}")


def at(function: str, marker: str) -> str:
    return f"{function} ({SOURCE.name}:{marker_line(marker)})"


class CallSiteLines(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = workdir()
        cls.trace = cls.dir / "forks.trace"
        program = tool("FORKS_AT_KNOWN_LINES")
        out = cowtrace("run", "-q", "-o", str(cls.trace), "--", program)
        assert out.returncode == 0, out.stderr
        cls.model = json.loads(report(cls.trace, "json"))
        root = next(p for p in cls.model["processes"] if p["ppid"] not in
                    {q["pid"] for q in cls.model["processes"]})
        cls.children = sorted((p for p in cls.model["processes"] if p["ppid"] == root["pid"]),
                              key=lambda p: p["start_ns"])

    def test_two_forked_children_with_call_sites(self):
        self.assertEqual(len(self.children), 2, self.model["processes"])
        for child in self.children:
            self.assertEqual(child["how"], "fork")
            self.assertTrue(child["call_site"], child)

    @staticmethod
    def program_frame(child: dict) -> dict:
        """The innermost frame in the program (a sanitizer's fork interceptor may come first)."""
        frames = [f for f in child["call_site"] if SOURCE.name in f.get("symbol", "")]
        assert frames, child["call_site"]
        return frames[0]

    def test_a_fork_in_main_is_named_with_its_line(self):
        frame = self.program_frame(self.children[0])
        self.assertEqual(frame.get("symbol"), at("main", "main_fork"), frame)
        self.assertNotIn("inlined_into", frame)

    def test_a_fork_in_an_inlined_helper_is_the_helper_then_main(self):
        frame = self.program_frame(self.children[1])
        self.assertEqual(frame.get("symbol"), at("fork_from_helper", "helper_fork"), frame)
        self.assertEqual(frame.get("inlined_into"), [at("main", "helper_site")], frame)

    def test_the_text_report_lists_both_call_sites_with_their_lines(self):
        text = report(self.trace, "text").decode()
        self.assertIn(f"{at('main', 'main_fork')} ← ", text)
        self.assertIn(f"{at('fork_from_helper', 'helper_fork')} ← {at('main', 'helper_site')} ← ",
                      text)

    def test_libc_frames_are_named_by_module_or_line_without_symbol_versions(self):
        # libc has line information only where its debug package (libc6-dbg) is installed.
        names = [f.get("symbol", "") for f in self.children[0]["call_site"][1:]]
        self.assertTrue(any(re.fullmatch(r"__libc_start_\w+ \((libc\.so\.6|\S+\.c:\d+)\)", n)
                            for n in names), names)
        self.assertFalse([n for n in names if "@" in n], names)  # not "__libc_start_main@@GLIBC_2.34"


if __name__ == "__main__":
    unittest.main()

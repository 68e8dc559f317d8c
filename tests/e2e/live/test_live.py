"""`--live` in a real terminal: cowtrace runs in a tmux pane of fixed size, the screen is read
back with `tmux capture-pane` and the pane's modes with `tmux display-message`. The figures on
the screen (the fork, its shared and copied bytes) are checked against the trace written at the
end, the redraw after a resize against the new size, and the terminal after the view has closed
(normal screen, cursor shown, echo and line editing back). Without a terminal, `run --live`
refuses with a clear message and `attach --live` prints one line per fork episode as it ends."""
from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reports"))
from report_tools import cowtrace, tool  # noqa: E402

MiB = 1 << 20
EXIT_USAGE = 2
WAIT_S = 30  # how long a screen may take to show what it must: a limit, not a measurement
UNITS = {"B": 1, "KiB": 1 << 10, "MiB": MiB, "GiB": 1 << 30}
# "4242 → 4243      64.0 MiB    20.0 MiB    0 B/s        [#########.....] 31%"
EPISODE = re.compile(r"^(\d+) → (\d+) +([\d.]+ \w+) +(~?)([\d.]+ \w+) +(\S+ \S+|—) +(\[[#.]+\] )?(\d+(?:\.\d)?)%")


def size_of(text: str) -> float:
    number, unit = text.split()
    return float(number) * UNITS[unit]


def plain_env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


_servers = itertools.count()


def tmux_of_our_own() -> list[str]:
    """tmux on a socket of its own: a new server each time, never the user's."""
    return ["tmux", "-L", f"cowtrace-live-{os.getpid()}-{next(_servers)}", "-f", "/dev/null"]


class Pane:
    """One tmux server of our own (its own socket), one window of a fixed size running `command`
    through sh; after the command, the shell says its exit status and the terminal's modes."""

    def __init__(self, command: list[str], width: int = 100, height: int = 30):
        self.tmux = tmux_of_our_own()
        after = ('echo "cowtrace exited $?"; '
                 "echo \"modes: $(stty -a | tr ' ;' '\\n\\n' | grep -x -e '-\\?icanon' -e '-\\?echo' "
                 "| tr '\\n' ' ')\"; exec sleep 600")
        script = shlex.join(command) + "; " + after
        subprocess.run([*self.tmux, "new-session", "-d", "-x", str(width), "-y", str(height), "-s", "live",
                        "sh", "-c", script], check=True, env=plain_env(), timeout=30)

    def screen(self) -> list[str]:
        out = subprocess.run([*self.tmux, "capture-pane", "-p", "-t", "live"], capture_output=True,
                             check=True, timeout=30)
        return out.stdout.decode("utf-8", errors="replace").split("\n")

    def modes(self) -> dict:
        """alternate_on: the alternate screen is shown; cursor_flag: the cursor is visible."""
        fmt = "#{alternate_on} #{cursor_flag} #{pane_width} #{pane_height}"
        out = subprocess.run([*self.tmux, "display-message", "-p", "-t", "live", fmt], capture_output=True,
                             check=True, timeout=30).stdout.decode().split()
        return {"alternate_on": out[0] == "1", "cursor_flag": out[1] == "1", "width": int(out[2]),
                "height": int(out[3])}

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", "live", *keys], check=True, timeout=30)

    def resize(self, width: int, height: int) -> None:
        subprocess.run([*self.tmux, "resize-window", "-t", "live", "-x", str(width), "-y", str(height)],
                       check=True, timeout=30)

    def wait_for(self, what: str, found) -> list[str]:
        """Reads the screen until found(lines) holds; fails with the last screen after WAIT_S."""
        deadline = time.monotonic() + WAIT_S
        while True:
            lines = self.screen()
            if found(lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen never showed {what}:\n" + "\n".join(lines))
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, timeout=30)


def episode_on(lines: list[str]) -> re.Match | None:
    for line in lines:
        m = EPISODE.match(line)
        if m:
            return m
    return None


def copied_at_least(nbytes: int):
    def found(lines: list[str]) -> bool:
        m = episode_on(lines)
        return m is not None and size_of(m.group(5)) >= nbytes
    return found


def copies_done(nbytes: int):
    """The episode shows at least nbytes copied and no growth since the sample before: the
    child's writes are over (it writes at some 70 MiB/s, and the screen is read meanwhile)."""
    def found(lines: list[str]) -> bool:
        m = episode_on(lines)
        return m is not None and size_of(m.group(5)) >= nbytes and m.group(6) == "0 B/s"
    return found


def exit_status(lines: list[str]) -> int | None:
    for line in lines:
        m = re.match(r"cowtrace exited (\d+)", line)
        if m:
            return int(m.group(1))
    return None


def terminal_modes_line(lines: list[str]) -> str | None:
    """The line the shell printed with the terminal's modes (not the command line typed)."""
    return next((line for line in lines if re.fullmatch(r"modes:( -?(icanon|echo))+ *", line)), None)


def report_json(trace: Path) -> dict:
    out = cowtrace("report", str(trace), "--format", "json")
    if out.returncode != 0:
        raise AssertionError(out.stderr.decode(errors="replace"))
    return json.loads(out.stdout)


class LiveScreenChecks:
    """What each tmux run checks: set up by the class, which leaves the screen seen with the
    episode open (`live`), the one after the resize (`narrow`), the modes at each step, the
    screen after the view closed (`after`) and the trace."""

    def test_the_view_is_on_the_alternate_screen_without_a_cursor(self):
        self.assertTrue(self.live_modes["alternate_on"], self.live_modes)
        self.assertFalse(self.live_modes["cursor_flag"], self.live_modes)

    def test_the_episode_on_screen_is_the_traces_fork_with_its_figures(self):
        m = episode_on(self.live)
        parent, child = int(m.group(1)), int(m.group(2))
        forks = [f for f in self.data["forks"] if f["parent"] == parent and f["child"] == child]
        self.assertEqual(len(forks), 1, (m.group(0), self.data["forks"]))
        fork = forks[0]
        # Shown with one decimal: within 0.05 MiB of the trace. The screen was read once the
        # child's writes were done: a count is the trace's own to a few pages (its stack), an
        # estimate ("~") within its error.
        self.assertAlmostEqual(size_of(m.group(3)) / MiB, fork["shared_bytes_at_fork"] / MiB, delta=0.051)
        delta = 1.5 if m.group(4) == "~" else 0.2
        self.assertAlmostEqual(size_of(m.group(5)) / MiB, fork["copied_bytes_peak"] / MiB, delta=delta,
                               msg=m.group(0))
        percent = 100 * size_of(m.group(5)) / size_of(m.group(3))
        self.assertAlmostEqual(float(m.group(8)), percent, delta=1.0, msg=m.group(0))

    def test_the_tree_shows_the_child_under_its_parent(self):
        m = episode_on(self.live)
        rows = [line for line in self.live if re.match(r"^\d+ ", line) and "→" not in line]
        parent_row = next(i for i, line in enumerate(rows) if line.startswith(m.group(1) + " "))
        child_row = next(i for i, line in enumerate(rows) if line.startswith(m.group(2) + " "))
        self.assertEqual(child_row, parent_row + 1, "\n".join(self.live))
        self.assertIn("└ ", rows[child_row])
        self.assertIn("cow_writer", rows[child_row])

    def test_the_tree_pss_is_plausible(self):
        line = next(line for line in self.live if line.startswith("tree PSS "))
        pss = size_of(" ".join(line.split()[2:4]))
        m = episode_on(self.live)
        shared, copied = size_of(m.group(3)), size_of(m.group(5))
        # At most the writer's 64 MiB once, what the child copied and the programs. At least
        # half of it: between samples the tree's PSS is a guess from the last ones (a parent
        # sampled after the fork counts half of what it shares, a child not sampled yet nothing;
        # model/tree_pss_ledger.hpp).
        self.assertGreaterEqual(pss, shared / 2, line)
        self.assertLessEqual(pss, shared + copied + 32 * MiB, line)

    def test_after_a_resize_the_screen_is_drawn_for_the_new_size(self):
        self.assertEqual((self.narrow_modes["width"], self.narrow_modes["height"]), (60, 20))
        # The top line is padded to the width with the elapsed time at its right end.
        self.assertEqual(len(self.narrow[0]), 60, self.narrow[0])
        self.assertRegex(self.narrow[0], r" \d+\.\d s$")
        self.assertTrue(self.narrow[19].startswith("q: "), "\n".join(self.narrow))
        m = episode_on(self.narrow)
        self.assertIsNotNone(m, "\n".join(self.narrow))
        self.assertIsNone(m.group(7), "no room for the bar at 60 columns: " + m.group(0))

    def test_the_terminal_is_left_clean(self):
        self.assertFalse(self.after_modes["alternate_on"], self.after_modes)
        self.assertTrue(self.after_modes["cursor_flag"], self.after_modes)
        self.assertEqual(terminal_modes_line(self.after).split(), ["modes:", "icanon", "echo"])
        self.assertFalse(any("COPIED" in line for line in self.after), "\n".join(self.after))


def live_session(cls, command: list[str], copied_bytes: int, quit_keys: list[str]) -> None:
    """Runs command in a pane, reads the screen once the episode shows copied_bytes and its
    child has stopped writing, resizes,
    quits with quit_keys and waits for cowtrace's exit status."""
    cls.pane = Pane(command)
    try:
        cls.live = cls.pane.wait_for("the open episode with its copies done", copies_done(copied_bytes))
        cls.live_modes = cls.pane.modes()
        cls.pane.resize(60, 20)
        cls.narrow = cls.pane.wait_for(
            "a redraw at 60x20",
            lambda lines: len(lines[0]) == 60 and lines[19].startswith("q: ") and episode_on(lines))
        cls.narrow_modes = cls.pane.modes()
        cls.pane.keys(*quit_keys)
        cls.after = cls.pane.wait_for("cowtrace's exit and the terminal's modes", terminal_modes_line)
        cls.after_modes = cls.pane.modes()
    finally:
        cls.pane.close()


class RunLiveInTmux(LiveScreenChecks, unittest.TestCase):
    """`cowtrace run --live`; q closes the view and the command goes on to its end."""

    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp(prefix="cowtrace-live-"))
        cls.trace = cls.dir / "run.trace"
        writer = [tool("COW_WRITER"), "--share", "64", "--child-writes", "24", "--child-wait-ms", "500",
                  "--hold-ms", "6000", "--children", "1"]
        live_session(cls, [tool("COWTRACE_BIN"), "run", "--live", "-o", str(cls.trace), "--", *writer],
                     23 * MiB, ["q"])
        cls.data = report_json(cls.trace)

    def test_q_closes_the_view_and_the_command_ends_as_it_would(self):
        self.assertEqual(exit_status(self.after), 0, "\n".join(self.after))
        text = "\n".join(self.after)
        self.assertIn("live view closed", text)
        self.assertIn(f"trace written to {self.trace}", "".join(self.after))  # wrapped at 60
        root = next(p for p in self.data["processes"] if p["ppid"] not in
                    {q["pid"] for q in self.data["processes"]})
        self.assertEqual(root["exit"]["code"], 0)


class AttachLiveInTmux(LiveScreenChecks, unittest.TestCase):
    """`cowtrace attach --live` on a cow_writer started plainly; q ends the attach."""

    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp(prefix="cowtrace-live-"))
        cls.trace = cls.dir / "attach.trace"
        cls.writer = subprocess.Popen(
            [tool("COW_WRITER"), "--share", "64", "--child-writes", "24", "--wait-ms", "1500",
             "--child-wait-ms", "500", "--hold-ms", "6000", "--children", "1"], env=plain_env())
        try:
            live_session(cls, [tool("COWTRACE_BIN"), "attach", "--live", str(cls.writer.pid), "-o", str(cls.trace)],
                         23 * MiB, ["q"])
        finally:
            cls.writer_status = cls.writer.wait(timeout=60)
        cls.data = report_json(cls.trace)

    def test_q_ends_the_attach_and_the_host_is_left_alone(self):
        self.assertEqual(exit_status(self.after), 0, "\n".join(self.after))
        self.assertIn(f"trace written to {self.trace}", "".join(self.after))  # wrapped at 60
        self.assertEqual(self.writer_status, 0)


class InteractiveShell(Pane):
    """An interactive bash in the pane, for the keys a shell's job control acts on."""

    def __init__(self):
        self.tmux = tmux_of_our_own()
        env = {**plain_env(), "PS1": "$ "}
        subprocess.run([*self.tmux, "new-session", "-d", "-x", "100", "-y", "30", "-s", "live",
                        "bash", "--norc", "--noprofile", "-i"], check=True, env=env, timeout=30)

    def type(self, line: str) -> None:
        self.keys("-l", line)
        self.keys("Enter")


def writer_under_live_run(trace: Path, hold_ms: int) -> str:
    writer = [tool("COW_WRITER"), "--share", "16", "--child-writes", "8", "--child-wait-ms", "300",
              "--hold-ms", str(hold_ms), "--children", "1"]
    return shlex.join([tool("COWTRACE_BIN"), "run", "--live", "-o", str(trace), "--", *writer])


STTY_MODES = ("echo \"modes: $(stty -a | tr ' ;' '\\n\\n' | grep -x -e '-\\?icanon' -e '-\\?echo' "
              "| tr '\\n' ' ')\"")


class KeysOfTheShell(unittest.TestCase):
    """Ctrl-C and Ctrl-Z under `run --live` do what they do without it, and the terminal is the
    shell's again while cowtrace is stopped or once it has ended."""

    def setUp(self):
        self.shell = InteractiveShell()
        self.trace = Path(tempfile.mkdtemp(prefix="cowtrace-live-")) / "run.trace"

    def tearDown(self):
        self.shell.close()

    def test_ctrl_c_ends_the_command_and_gives_the_terminal_back(self):
        self.shell.type(writer_under_live_run(self.trace, 20000) + "; echo \"cowtrace exited $?\"; "
                        + STTY_MODES)
        self.shell.wait_for("the open episode", copied_at_least(7 * MiB))
        self.shell.keys("C-c")
        after = self.shell.wait_for("cowtrace's exit", terminal_modes_line)
        # SIGINT reached the command too, as without --live: it died of it (128 + 2).
        self.assertEqual(exit_status(after), 130, "\n".join(after))
        self.assertEqual(terminal_modes_line(after).split(), ["modes:", "icanon", "echo"])
        modes = self.shell.modes()
        self.assertFalse(modes["alternate_on"])
        self.assertTrue(modes["cursor_flag"])
        self.assertIn(f"trace written to {self.trace}", "".join(after))

    def test_ctrl_z_gives_the_terminal_back_and_fg_takes_it_again(self):
        self.shell.type(writer_under_live_run(self.trace, 20000))
        self.shell.wait_for("the open episode", copied_at_least(7 * MiB))
        self.shell.keys("C-z")
        stopped = self.shell.wait_for("the job stopped", lambda lines: any("Stopped" in line for line in lines))
        modes = self.shell.modes()
        self.assertFalse(modes["alternate_on"], "\n".join(stopped))
        self.assertTrue(modes["cursor_flag"])
        self.shell.type(STTY_MODES)
        shown = self.shell.wait_for("the terminal's modes", terminal_modes_line)
        self.assertEqual(terminal_modes_line(shown).split(), ["modes:", "icanon", "echo"])
        self.shell.type("fg; echo \"cowtrace exited $?\"")
        self.shell.wait_for("the view again", episode_on)
        self.assertTrue(self.shell.modes()["alternate_on"])
        self.shell.keys("C-c")
        after = self.shell.wait_for("cowtrace's exit", lambda lines: exit_status(lines) is not None)
        self.assertEqual(exit_status(after), 130, "\n".join(after))
        self.assertFalse(self.shell.modes()["alternate_on"])


class LiveWithoutATerminal(unittest.TestCase):
    def test_run_live_refuses_without_a_terminal_and_says_why(self):
        out = cowtrace("run", "--live", "-o", "/dev/null", "--", "true")
        self.assertEqual(out.returncode, EXIT_USAGE, out.stderr)
        self.assertIn("--live", out.stderr.decode())
        self.assertIn("not", out.stderr.decode())

    def test_attach_live_prints_a_line_per_episode_as_it_ends(self):
        trace = Path(tempfile.mkdtemp(prefix="cowtrace-live-")) / "attach.trace"
        writer = subprocess.Popen(
            [tool("COW_WRITER"), "--share", "32", "--child-writes", "8", "--wait-ms", "1500",
             "--child-wait-ms", "300", "--hold-ms", "500", "--children", "2"], env=plain_env())
        try:
            out = cowtrace("attach", "--live", "-q", str(writer.pid), "-o", str(trace))
        finally:
            self.assertEqual(writer.wait(timeout=60), 0)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.decode().splitlines()
        forks = report_json(trace)["forks"]
        self.assertEqual(len(lines), len(forks), (lines, forks))
        self.assertEqual(len(forks), 2, forks)
        for line, fork in zip(lines, forks):
            m = re.match(r"fork (\d+) → (\d+) \(([^)]*)\) ended after [\d.]+ s: shared ([\d.]+ \w+), "
                         r"copied (about )?([\d.]+ \w+) \((\d+)%\)$", line)
            self.assertIsNotNone(m, line)
            # "about": no counted copy before the end (a loaded machine): the last estimate
            # stands, as the report has it
            if m.group(5):
                self.assertFalse(fork["samples"][-1]["exact"], (line, fork["samples"]))
            self.assertEqual((int(m.group(1)), int(m.group(2))), (fork["parent"], fork["child"]))
            self.assertIn("cow_writer", m.group(3))
            self.assertAlmostEqual(size_of(m.group(4)) / MiB, fork["shared_bytes_at_fork"] / MiB, delta=0.051)
            self.assertAlmostEqual(size_of(m.group(6)) / MiB, fork["copied_bytes_peak"] / MiB, delta=0.051)


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""run_tree_test.py SCENARIO kernel|shim   (or --list: every scenario and mode it runs in)

Runs one scenario under `cowtrace run` with `strace -f` between cowtrace and the command, then
checks that cowtrace's process tree is strace's, process for process: pid, creating parent, how
it was created (memory copied or borrowed), number of successful execs, last exec path, exit code
or signal. "shim" runs cowtrace with --no-kernel-events: every fact must then come from the
library and from the collector's subreaping. The command's output, exit status and data file
must also be those of an untraced run.

strace itself runs without the library (tests/fixtures/exec_without_preload.c): its wait4 sees
every tracee's exit, a witness the program does not have on its own. `strace -E` hands the
library back to the command it starts.

Needs COWTRACE_BIN, COWTRACE_LIB and COWTRACE_FIXTURES (ctest sets them). Exits 0 on success,
1 on failure, 77 when skipped.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cowtrace_tree
import tree_diff
from scenarios import BY_NAME, Scenario
from strace_log import StraceFormatError, StraceTree

HERE = Path(__file__).resolve().parent
SKIP = 77
RUN_TIMEOUT_S = 120  # a run takes a second or two; ctest's own limit is 300 s
# A fixed PATH: bare names resolve alike on every machine, with misses before the hit.
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Failure(Exception):
    pass


@dataclass
class TracedRun:
    result: subprocess.CompletedProcess
    report: dict
    strace: StraceTree


def tool_paths() -> dict[str, str]:
    try:
        return {k: os.environ[k] for k in ("COWTRACE_BIN", "COWTRACE_LIB", "COWTRACE_FIXTURES")}
    except KeyError as e:
        raise Failure(f"{e.args[0]} is not set (run through ctest)") from None


def clean_environment(workdir: Path) -> dict[str, str]:
    """The caller's environment without anything of cowtrace's and with a known PATH; the
    collector's private socket directory goes under workdir."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not (k.startswith("COWTRACE_") and k != "COWTRACE_LIB")}
    env.pop("XDG_RUNTIME_DIR", None)
    env.update(PATH=PATH, TMPDIR=str(workdir), LC_ALL="C")
    return env


def expand(scenario: Scenario, tools: dict[str, str], workdir: Path) -> list[str]:
    values = {"{fixtures}": tools["COWTRACE_FIXTURES"], "{programs}": str(HERE / "programs"),
              "{data}": str(workdir / "data")}
    words = []
    for word in scenario.command:  # plain replace: shell scripts have braces of their own
        for placeholder, value in values.items():
            word = word.replace(placeholder, value)
        words.append(word)
    return words


def as_scenario_user(scenario: Scenario, cmd: list[str]) -> list[str]:
    if not scenario.unprivileged:
        return cmd
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] + cmd


def make_workdir(scenario: Scenario, label: str) -> Path:
    workdir = Path(tempfile.mkdtemp(prefix=f"cowtrace-tree-{scenario.name}-{label}-"))
    if scenario.unprivileged:
        # mkdtemp made it 0700: only nobody can write the trace, strace's log and the socket.
        nobody = pwd.getpwnam("nobody")
        os.chown(workdir, nobody.pw_uid, nobody.pw_gid)
    return workdir


def run(cmd: list[str], workdir: Path) -> subprocess.CompletedProcess:
    """Runs cmd in a process group of its own, so a hung run is ended whole."""
    with subprocess.Popen(cmd, cwd=workdir, env=clean_environment(workdir),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise Failure(f"timed out after {RUN_TIMEOUT_S}s: {' '.join(cmd)}") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def traced_run(scenario: Scenario, mode: str, tools, workdir: Path) -> TracedRun:
    trace, strace_log = workdir / "trace", workdir / "strace.txt"
    strace = shutil.which("strace", path=PATH)
    if strace is None:
        raise Failure("strace is not installed")
    cmd = [tools["COWTRACE_BIN"], "run", "-q", "-o", str(trace)]
    if mode == "shim":
        cmd.append("--no-kernel-events")
    cmd += ["--", tools["COWTRACE_FIXTURES"] + "/exec_without_preload", strace,
            "-f", "-q", "-s", "256", "-e", "trace=process", "-o", str(strace_log),
            "-E", "LD_PRELOAD=" + tools["COWTRACE_LIB"], "--"]
    cmd += expand(scenario, tools, workdir)
    result = run(as_scenario_user(scenario, cmd), workdir)
    if not trace.exists() or not strace_log.exists():
        raise Failure(f"no trace or strace log; cowtrace run exited {result.returncode}:\n"
                      + result.stderr.decode(errors="replace"))
    if scenario.unprivileged and trace.stat().st_uid != pwd.getpwnam("nobody").pw_uid:
        raise Failure("the trace was not written by nobody: the session was not unprivileged")
    report = subprocess.run([tools["COWTRACE_BIN"], "report", str(trace), "--format", "json"],
                            capture_output=True, timeout=RUN_TIMEOUT_S)
    if report.returncode != 0:
        raise Failure("cowtrace report failed:\n" + report.stderr.decode(errors="replace"))
    strace_text = strace_log.read_text(errors="surrogateescape")
    return TracedRun(result, json.loads(report.stdout), StraceTree(strace_text))


def check_tree(traced: TracedRun, mode: str) -> list[str]:
    root = traced.strace.root_pid
    want = traced.strace.facts()
    got, problems = cowtrace_tree.subtree_facts(traced.report, root)
    problems += tree_diff.differences(want, got)
    for pid in cowtrace_tree.flagged_processes(traced.report, got.keys(), "records_missing"):
        problems.append(f"pid {pid}: cowtrace says records of it were lost")
    if not traced.report["trace"]["complete"]:
        problems.append("the trace has no end record")
    if problems:
        print(tree_diff.render("strace:", want, root))
        print(tree_diff.render(f"cowtrace ({mode}):", got, root))
    return problems


def check_exit_status(traced: TracedRun) -> list[str]:
    """cowtrace run exits as the command did (128+N for signal N), as strace saw it end."""
    end = traced.strace.facts()[traced.strace.root_pid].end
    if end == "unknown":
        return ["strace did not see the command end"]
    kind, number = end.split()
    want = int(number) + (128 if kind == "signal" else 0)
    if traced.result.returncode != want:
        return [f"cowtrace run exited {traced.result.returncode}, the command ended {end}"]
    return []


def check_same_as_untraced(traced, untraced, traced_dir: Path, untraced_dir: Path) -> list[str]:
    problems = []
    if traced.stdout != untraced.stdout:
        problems.append("stdout differs from an untraced run:\n--- untraced\n"
                        + untraced.stdout.decode(errors="replace") + "--- traced\n"
                        + traced.stdout.decode(errors="replace"))
    if traced.returncode != untraced.returncode:
        problems.append(f"exit status {traced.returncode}, untraced {untraced.returncode}")
    data, untraced_data = traced_dir / "data", untraced_dir / "data"
    if data.exists() or untraced_data.exists():
        got = data.read_bytes() if data.exists() else b"<missing>"
        want = untraced_data.read_bytes() if untraced_data.exists() else b"<missing>"
        if got != want:
            problems.append(f"data file differs from an untraced run:\n--- untraced\n{want!r}\n"
                            f"--- traced\n{got!r}")
    return problems


def check_scenario(scenario: Scenario, mode: str, traced_dir: Path, untraced_dir: Path) -> int:
    tools = tool_paths()
    untraced = run(as_scenario_user(scenario, expand(scenario, tools, untraced_dir)), untraced_dir)
    if untraced.returncode == SKIP:
        print("SKIP: " + untraced.stdout.decode(errors="replace"))
        return SKIP
    traced = traced_run(scenario, mode, tools, traced_dir)
    problems = check_tree(traced, mode) + check_exit_status(traced)
    problems += check_same_as_untraced(traced.result, untraced, traced_dir, untraced_dir)
    if problems:
        print(f"FAIL {scenario.name} ({mode}), files kept in {traced_dir}:")
        for p in problems:
            print("  " + p)
        if traced.result.stderr:
            print("stderr of cowtrace run:\n" + traced.result.stderr.decode(errors="replace"))
        return 1
    if mode == "kernel" and not traced.report["trace"]["kernel_events"]:
        note = traced.report["trace"]["kernel_events_note"]
        print(f"SKIP: no kernel events here ({note}); the shim-only test is the one that ran")
        return SKIP
    print(f"PASS {scenario.name} ({mode}): {len(traced.strace.facts())} processes")
    return 0


def run_scenario(scenario: Scenario, mode: str) -> int:
    if scenario.unprivileged and os.geteuid() != 0:
        print("SKIP: needs root to switch to nobody")
        return SKIP
    traced_dir = make_workdir(scenario, mode)
    untraced_dir = make_workdir(scenario, "untraced")
    status = 1
    try:
        status = check_scenario(scenario, mode, traced_dir, untraced_dir)
    except (Failure, StraceFormatError) as e:
        print(f"FAIL {scenario.name} ({mode}): {e}\nfiles kept in {traced_dir}")
    finally:
        shutil.rmtree(untraced_dir, ignore_errors=True)
        if status != 1:
            shutil.rmtree(traced_dir, ignore_errors=True)
    return status


def main(argv: list[str]) -> int:
    if argv[1:] == ["--list"]:  # "scenario mode" per line, for CMake
        print("\n".join(f"{s.name} {mode}" for s in BY_NAME.values() for mode in s.modes()))
        return 0
    if len(argv) != 3 or argv[1] not in BY_NAME or argv[2] not in BY_NAME[argv[1]].modes():
        print(f"usage: {argv[0]} SCENARIO kernel|shim  (or --list)")
        return 2
    return run_scenario(BY_NAME[argv[1]], argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))

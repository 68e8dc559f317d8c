"""Shared machinery of the hostile-host tests, on top of the tree tests' (tests/e2e/tree):
the same runs under `strace -f`, the same process-for-process comparison, the same checks that
the command's output, exit status and data file are those of an untraced run.

Two ways of judging a traced run:
- complete: cowtrace's tree must be strace's, fact for fact, no record may be missing, and no
  process may be flagged as a gap (the library saw everything);
- gap: some processes cannot be instrumented (static, set-id, RTLD_DEEPBIND, raw system calls).
  cowtrace must name the gap on the right processes (`flags` in the JSON report), and with the
  kernel's witness every process strace saw must still be there with its creator and its end.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tree"))

import cowtrace_tree  # noqa: E402  (tests/e2e/tree)
import run_tree_test as tree  # noqa: E402
import tree_diff  # noqa: E402
from process_facts import ProcessFacts  # noqa: E402
from scenarios import Scenario  # noqa: E402
from strace_log import StraceFormatError  # noqa: E402

SKIP = 77
MODES = ("kernel", "shim")
Failure = tree.Failure

# What cowtrace says when it could not follow a process (tools/report/json_report.cpp).
GAP_FLAGS = {"untraced_creation", "not_instrumented", "exec_static_image", "exec_setid_image",
             "exec_as_other_uid", "deepbind_plugin"}


def programs_dir() -> Path:
    try:
        return Path(os.environ["HOSTILE_PROGRAMS"])
    except KeyError:
        raise Failure("HOSTILE_PROGRAMS is not set (run through ctest)") from None


def expand(words: list[str]) -> list[str]:
    """{hostile} names the programs built from programs/; the tree harness expands the rest
    ({fixtures}, {data})."""
    return [w.replace("{hostile}", str(programs_dir())) for w in words]


def report_processes(report: dict) -> dict[int, list[dict]]:
    by_pid: dict[int, list[dict]] = {}
    for p in report["processes"]:
        by_pid.setdefault(p["pid"], []).append(p)
    return by_pid


def process_in_subtree(report: dict, pids: set[int], pid: int) -> dict | None:
    """The report's process `pid` among those of the subtree (the last holder of the pid)."""
    if pid not in pids:
        return None
    holders = report_processes(report).get(pid, [])
    return holders[-1] if holders else None


@dataclass
class Outcome:
    """One traced run, ready to be judged."""
    mode: str
    traced: tree.TracedRun
    want: dict[int, ProcessFacts]  # strace's facts
    got: dict[int, ProcessFacts]   # cowtrace's, for the subtree of the command
    problems: list[str] = field(default_factory=list)

    def cowtrace_process(self, pid: int) -> dict | None:
        return process_in_subtree(self.traced.report, set(self.got), pid)

    def flags(self, pid: int) -> set[str]:
        p = self.cowtrace_process(pid)
        return set(p["flags"]) if p else set()


# A check a case adds: (outcome, untraced run) -> problems.
ExtraCheck = Callable[[Outcome, object], list[str]]


def judge_complete(o: Outcome, excused: dict[int, set[str]] | None = None,
                   kernel_only: set[int] = frozenset()) -> None:
    """The tree tests' verdict, plus: no process of the subtree is flagged as a gap (but the
    command itself was created by strace, which runs without the library). `excused` allows
    some flags on some processes; the processes in `kernel_only` ran without the library: only
    the kernel's witness sees them, and it tells their creator and their end, not what they
    ran."""
    excused = dict(excused or {})
    excused.setdefault(o.traced.strace.root_pid, set()).add("untraced_creation")
    full = {pid: f for pid, f in o.want.items() if pid not in kernel_only}
    o.problems += tree_diff.differences(full, {p: f for p, f in o.got.items()
                                               if p not in kernel_only})
    for pid in sorted(kernel_only):
        want, got = o.want.get(pid), o.got.get(pid)
        if got is None:
            if o.mode == "kernel":
                o.problems.append(f"pid {pid}: in strace, missing from cowtrace")
        elif want is None:
            o.problems.append(f"pid {pid}: in cowtrace, not in strace")
        elif (want.ppid, want.end) != (got.ppid, got.end):
            o.problems.append(f"pid {pid}: strace parent {want.ppid}, {want.end}; cowtrace "
                              f"parent {got.ppid}, {got.end}")
    for pid in sorted(o.got):
        flags = o.flags(pid) & (GAP_FLAGS | {"records_missing"})
        flags -= excused.get(pid, set())
        if flags:
            o.problems.append(f"pid {pid}: flagged {sorted(flags)}")


def judge_gap(o: Outcome, end_unknown_without_kernel: set[int] = frozenset()) -> None:
    """Where cowtrace could not follow, it may know less, but never something wrong. With the
    kernel's witness every process must be there with its creator and its end; without it, a
    process may be missing, and those of end_unknown_without_kernel may lack their end. A
    process cowtrace flags as not (fully) followed is compared by creator and end only; every
    other one fact for fact."""
    for pid in sorted(o.got.keys() - o.want.keys()):
        o.problems.append(f"pid {pid}: in cowtrace, not in strace")
    for pid, want in sorted(o.want.items()):
        got = o.got.get(pid)
        if got is None:
            if o.mode == "kernel":
                o.problems.append(f"pid {pid}: in strace, missing from cowtrace")
            continue
        if o.flags(pid) & GAP_FLAGS:
            fields = ["ppid", "end"]
        else:
            fields = ["ppid", "creation", "exec_count", "last_exec", "end"]
        for name in fields:
            w, g = getattr(want, name), getattr(got, name)
            if name == "creation" and g == "-":
                continue
            if (name == "end" and g == "unknown" and o.mode == "shim"
                    and pid in end_unknown_without_kernel):
                continue
            if w != g:
                o.problems.append(f"pid {pid}: {name}: strace {w!r}, cowtrace {g!r}")
        if "records_missing" in o.flags(pid):
            o.problems.append(f"pid {pid}: cowtrace says records of it were lost")


def expect_flags(o: Outcome, what: str, pids, want: set[str], absent: set[str] = frozenset(),
                 required_in_shim_mode: bool = True) -> None:
    """Each of pids (strace's) carries the flags `want` and none of `absent`. Without the
    kernel's witness a process that never ran the library may be missing altogether:
    required_in_shim_mode=False allows that."""
    pids = list(pids)
    if not pids:
        o.problems.append(f"{what}: no such process in strace's tree")
    for pid in pids:
        p = o.cowtrace_process(pid)
        if p is None:
            if o.mode == "kernel" or required_in_shim_mode:
                o.problems.append(f"{what} (pid {pid}): missing from cowtrace")
            continue
        flags = set(p["flags"])
        if not want <= flags:
            o.problems.append(f"{what} (pid {pid}): flags {sorted(flags)}, want {sorted(want)}")
        if flags & absent:
            o.problems.append(f"{what} (pid {pid}): flagged {sorted(flags & absent)}")


# Selecting strace's processes by what they did.
def ended(o: Outcome, end: str) -> list[int]:
    return [pid for pid, f in o.want.items() if f.end == end]


def children(o: Outcome, parents) -> list[int]:
    parents = set(parents)
    return [pid for pid, f in o.want.items() if f.ppid in parents]


def last_exec_endswith(o: Outcome, suffix: str) -> list[int]:
    return [pid for pid, f in o.want.items() if f.last_exec and f.last_exec.endswith(suffix)]


def print_trees(o: Outcome) -> None:
    root = o.traced.strace.root_pid
    print(tree_diff.render("strace:", o.want, root))
    print(tree_diff.render(f"cowtrace ({o.mode}):", o.got, root))
    for pid in sorted(o.got):
        flags = o.flags(pid)
        if flags:
            print(f"  cowtrace flags of {pid}: {sorted(flags)}")


def run_case(name: str, command: list[str], judge: Callable[[Outcome], None],
             extra: ExtraCheck | None = None, modes=MODES) -> int:
    """Runs command untraced once, then traced under strace in each mode, and judges each
    traced run. Returns 0, 1 (failure) or 77 (skipped)."""
    scenario = Scenario(name, expand(command))
    tools = tree.tool_paths()
    untraced_dir = tree.make_workdir(scenario, "untraced")
    kept: list[Path] = []
    status = 0
    try:
        untraced = tree.run(tree.expand(scenario, tools, untraced_dir), untraced_dir)
        if untraced.returncode == SKIP:
            print("SKIP: " + untraced.stdout.decode(errors="replace"))
            return SKIP
        for mode in modes:
            traced_dir = tree.make_workdir(scenario, mode)
            try:
                o = traced_outcome(scenario, mode, tools, traced_dir)
                if mode == "kernel" and not o.traced.report["trace"]["kernel_events"]:
                    print(f"SKIP {mode}: no kernel events here "
                          f"({o.traced.report['trace']['kernel_events_note']})")
                    shutil.rmtree(traced_dir, ignore_errors=True)
                    continue
                judge(o)
                o.problems += tree.check_exit_status(o.traced)
                o.problems += tree.check_same_as_untraced(o.traced.result, untraced,
                                                          traced_dir, untraced_dir)
                if extra is not None:
                    o.problems += extra(o, untraced)
                if not o.traced.report["trace"]["complete"]:
                    o.problems.append("the trace has no end record")
            except (Failure, StraceFormatError) as e:
                print(f"FAIL {name} ({mode}): {e}\nfiles kept in {traced_dir}")
                kept.append(traced_dir)
                status = 1
                continue
            if o.problems:
                print_trees(o)
                print(f"FAIL {name} ({mode}), files kept in {traced_dir}:")
                for p in o.problems:
                    print("  " + p)
                if o.traced.result.stderr:
                    print("stderr of cowtrace run:\n"
                          + o.traced.result.stderr.decode(errors="replace")[-4000:])
                kept.append(traced_dir)
                status = 1
            else:
                print(f"PASS {name} ({mode}): {len(o.want)} processes")
                shutil.rmtree(traced_dir, ignore_errors=True)
    except Failure as e:
        print(f"FAIL {name}: {e}")
        status = 1
    finally:
        shutil.rmtree(untraced_dir, ignore_errors=True)
    return status


def traced_outcome(scenario: Scenario, mode: str, tools, workdir: Path) -> Outcome:
    traced = tree.traced_run(scenario, mode, tools, workdir)
    root = traced.strace.root_pid
    got, problems = cowtrace_tree.subtree_facts(traced.report, root)
    return Outcome(mode, traced, traced.strace.facts(), got, problems)


def scratch_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"cowtrace-hostile-{prefix}-"))


# For the cases that run without strace.
run_untraced = tree.run
tool_paths = tree.tool_paths

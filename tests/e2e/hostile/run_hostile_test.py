#!/usr/bin/env python3
"""run_hostile_test.py CASE   (or --list)

One hostile-host case: a program that does what tracers do not expect (goes after the tracer's
descriptor, forks under signal storms or held locks, fails its execs, scrubs LD_PRELOAD, runs
static, set-id or RTLD_DEEPBIND code, creates processes with raw system calls, re-execs itself,
passes arguments at the kernel's limit, creates 10,000 processes). Each runs untraced and
traced, with the kernel's witness and without it (--no-kernel-events); the program's output,
exit status and data file must be the untraced ones, and the trace complete (or, where
cowtrace cannot follow, the gap named on the right processes). See README.md.

Needs COWTRACE_BIN, COWTRACE_LIB, COWTRACE_FIXTURES and HOSTILE_PROGRAMS (ctest sets them).
Exits 0 on success, 1 on failure, 77 when skipped.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

import harness as h

DASH = "/usr/bin/dash"


# --- checks some cases add to the comparison with strace ----------------------------------

def exec_failures_recorded(o: h.Outcome, untraced) -> list[str]:
    """Every failed exec the program printed is in the trace, with its error, in order, for
    the process that made it: main (the command) and the first two children it creates."""
    want: dict[str, list[tuple[str, str]]] = {"main": [], "fork": [], "vfork": []}
    for line in o.traced.result.stdout.decode(errors="replace").splitlines():
        if line.startswith("exec-failure\t"):
            _, role, path, error = line.split("\t")
            want[role].append((path, error))
    root = o.traced.strace.root_pid
    kids = sorted(h.children(o, [root]))  # pids in creation order (no wraparound this short)
    roles = {"main": root, "fork": kids[0] if kids else None,
             "vfork": kids[1] if len(kids) > 1 else None}
    problems = []
    for role, pid in roles.items():
        p = o.cowtrace_process(pid) if pid else None
        if p is None:
            problems.append(f"{role}: no such process in cowtrace")
            continue
        got = [(e.get("requested_path", e["path"]), e.get("error", "?"))
               for e in p["execs"] if not e["ok"]]
        if got != want[role]:
            problems.append(f"{role} (pid {pid}) failed execs:\n    cowtrace {got}\n"
                            f"    program  {want[role]}")
    return problems


def failed_spawn_children(o: h.Outcome) -> list[int]:
    """strace's processes that glibc's posix_spawn made and whose exec failed: borrowed
    memory, no successful exec, exit 127 (SPAWN_ERROR)."""
    root = o.traced.strace.root_pid
    return [pid for pid, f in o.want.items()
            if f.ppid == root and f.creation == "share" and f.exec_count == 0
            and f.end == "code 127"]


def judge_exec_failures(o: h.Outcome) -> None:
    """Complete, except for the children of failed posix_spawn calls: they ran only glibc's
    helper (not_instrumented), and only the kernel's witness can tell their pid (posix_spawn
    returns the error, not the pid). With it, they must be there, created by posix_spawn, with
    the failed exec and the error the program got, in order."""
    spawned = failed_spawn_children(o)
    h.judge_complete(o, excused={pid: {"not_instrumented"} for pid in spawned},
                     kernel_only=set(spawned))
    if o.mode != "kernel":
        return
    want = [line.split(": ", 1)[1] for line in
            o.traced.result.stdout.decode(errors="replace").splitlines()
            if line.startswith("posix_spawn")]
    got = []
    for pid in sorted(spawned):
        p = o.cowtrace_process(pid)
        failed = [e for e in p["execs"] if not e["ok"]] if p else []
        if p is None or not p["how"].startswith("posix_spawn") or len(failed) != 1:
            o.problems.append(f"failed posix_spawn child {pid}: {p and (p['how'], p['execs'])}")
            continue
        got.append(failed[0].get("error"))
    if got != want:
        o.problems.append(f"failed posix_spawn errors: cowtrace {got}, program {want}")


def judge_kernel_limit(o: h.Outcome) -> None:
    """Complete, except for the shell of the last system() call, whose environment (the
    program's own) left no room for the library's variables: it ran without them, so only the
    kernel's witness sees it (created by an untraced mechanism, not instrumented)."""
    root = o.traced.strace.root_pid
    last = max(h.children(o, [root]), default=None)  # pids in creation order
    gap = {last} if last is not None else set()
    h.judge_complete(o, excused={pid: {"untraced_creation", "not_instrumented"} for pid in gap},
                     kernel_only=gap)


def one_exec_without_room(o: h.Outcome, untraced) -> list[str]:
    """The one exec whose environment (the program's own, without LD_PRELOAD) left no room for
    the library's variables ran without them, and the trace says so on that exec."""
    marked = []
    for pid in o.got:
        p = o.cowtrace_process(pid)
        for e in (p["execs"] if p else []):
            if "no room for LD_PRELOAD" in e.get("image", ""):
                marked.append((pid, e["path"]))
    if len(marked) != 1:
        return [f"execs marked as run without the library for lack of room: {marked}, want 1"]
    return []


# --- expectations of the cases where cowtrace cannot follow --------------------------------

def static_binary() -> int:
    if not (h.programs_dir() / "static_forker").exists():
        print("SKIP: no static C library here to link static_forker with")
        return h.SKIP
    return h.run_case("static_binary",
                      [DASH, "-c", "{hostile}/static_forker; echo \"static: $?\"; exit 4"],
                      static_binary_gaps)


def static_binary_gaps(o: h.Outcome) -> None:
    h.judge_gap(o)
    static = h.last_exec_endswith(o, "/static_forker")
    h.expect_flags(o, "the process that exec'd the static binary", static,
                   {"exec_static_image"})
    kids = h.children(o, static)
    h.expect_flags(o, "static binary's child that _exits",
                   [p for p in kids if o.want[p].exec_count == 0],
                   {"untraced_creation", "not_instrumented"}, required_in_shim_mode=False)
    shells = [p for p in kids if o.want[p].exec_count > 0]
    h.expect_flags(o, "static binary's child that execs a shell", shells,
                   {"untraced_creation"}, absent={"not_instrumented"})
    h.expect_flags(o, "the shell's child", h.children(o, shells), set(), absent=h.GAP_FLAGS)


def deepbind_gaps(o: h.Outcome) -> None:
    """The plugin's fork, exec, waitpid and _exit bind to libc past the wrappers. glibc's fork
    still runs the library's atfork handler, so its children are seen being created ("fork
    (inside libc)"), and the shell's hello shows the exec; the _exit and the waitpid are not
    seen: without the kernel's witness the first child's end is unknown."""
    quiet_exit = h.ended(o, "code 41")
    h.judge_gap(o, end_unknown_without_kernel=set(quiet_exit))
    root = o.traced.strace.root_pid
    h.expect_flags(o, "the host that loaded the plugin", [root], {"deepbind_plugin"})
    h.expect_flags(o, "the plugin's child that _exits", quiet_exit, set(), absent=h.GAP_FLAGS)
    shell = h.ended(o, "code 42")
    h.expect_flags(o, "the plugin's child that execs a shell", shell, set(), absent=h.GAP_FLAGS)
    h.expect_flags(o, "the shell's child", h.children(o, shell), set(), absent=h.GAP_FLAGS)
    h.expect_flags(o, "the host's own child", h.ended(o, "code 43"), set(),
                   absent=h.GAP_FLAGS)
    for pid in quiet_exit + shell:
        p = o.cowtrace_process(pid)
        if p is not None and p["how"] != "fork (inside libc)":
            o.problems.append(f"plugin child {pid}: created by {p['how']!r}, want the atfork "
                              "handler's 'fork (inside libc)'")


def raw_syscall_gaps(o: h.Outcome) -> None:
    h.judge_gap(o)
    h.expect_flags(o, "raw fork, raw exit_group", h.ended(o, "code 51"),
                   {"untraced_creation", "not_instrumented"}, required_in_shim_mode=False)
    h.expect_flags(o, "raw fork, libc _exit", h.ended(o, "code 52"), {"untraced_creation"},
                   absent={"not_instrumented"})
    shell = h.ended(o, "code 53")
    h.expect_flags(o, "raw fork, raw execve of a shell", shell, {"untraced_creation"},
                   absent={"not_instrumented"})
    h.expect_flags(o, "the shell's child", h.children(o, shell), set(), absent=h.GAP_FLAGS)


# --- the set-user-ID case: no strace (ptrace would cancel the set-id bit) ------------------

def setuid_target() -> int:
    if os.geteuid() != 0:
        print("SKIP: needs root to install a set-user-ID copy and switch to nobody")
        return h.SKIP
    tools = h.tool_paths()
    nobody = pwd.getpwnam("nobody")
    # A root-owned directory nobody can read, holding a set-user-ID-root copy of setid_probe.
    suid_dir = h.scratch_dir("suid")
    os.chmod(suid_dir, 0o755)
    copy = suid_dir / "setid_probe"
    shutil.copy(h.programs_dir() / "setid_probe", copy)
    os.chown(copy, 0, 0)
    os.chmod(copy, 0o4755)
    script = f"exec 3>>witness; {copy}; echo \"set-id program: $?\"; exit 5"
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
    status = 0
    untraced_dir = h.scratch_dir("setuid-untraced")
    try:
        os.chown(untraced_dir, nobody.pw_uid, nobody.pw_gid)
        untraced = h.run_untraced(as_nobody + [DASH, "-c", script], untraced_dir)
        if b"root: yes" not in untraced.stdout:
            print("SKIP: the set-user-ID bit does not take effect here:",
                  untraced.stdout.decode(errors="replace"))
            return h.SKIP
        for mode in h.MODES:
            workdir = h.scratch_dir(f"setuid-{mode}")
            os.chown(workdir, nobody.pw_uid, nobody.pw_gid)
            problems = setuid_run(mode, tools, as_nobody, script, untraced, workdir)
            if problems:
                print(f"FAIL setuid_target ({mode}), files kept in {workdir}:")
                for p in problems:
                    print("  " + p)
                status = 1
            else:
                print(f"PASS setuid_target ({mode})")
                shutil.rmtree(workdir, ignore_errors=True)
    finally:
        shutil.rmtree(untraced_dir, ignore_errors=True)
        shutil.rmtree(suid_dir, ignore_errors=True)
    return status


def setuid_run(mode, tools, as_nobody, script, untraced, workdir: Path) -> list[str]:
    cmd = [tools["COWTRACE_BIN"], "run", "-q", "-o", "trace"]
    if mode == "shim":
        cmd.append("--no-kernel-events")
    result = h.run_untraced(as_nobody + cmd + ["--", DASH, "-c", script], workdir)
    problems = []
    if result.stdout != untraced.stdout or result.returncode != untraced.returncode:
        problems.append(f"traced run printed {result.stdout!r} and exited {result.returncode};"
                        f" untraced {untraced.stdout!r}, {untraced.returncode}")
    report_run = subprocess.run([tools["COWTRACE_BIN"], "report", str(workdir / "trace"),
                                 "--format", "json"], capture_output=True, timeout=60)
    if report_run.returncode != 0:
        return problems + ["cowtrace report failed: " + report_run.stderr.decode()]
    report = json.loads(report_run.stdout)
    if mode == "kernel" and not report["trace"]["kernel_events"]:
        return problems  # nothing more to compare without the kernel's witness
    # The witness: "self PID PPID", "exits PID PPID", "execs PID PPID", "reaped PID CODE".
    witness: dict[str, tuple[int, int]] = {}
    reaped: dict[int, int] = {}
    for line in (workdir / "witness").read_text().splitlines():
        role, a, b = line.split()
        if role == "reaped":
            reaped[int(a)] = int(b)
        else:
            witness[role] = (int(a), int(b))
    by_pid = h.report_processes(report)

    def check(role: str, code: int, want_flags: set[str], required: bool) -> None:
        pid, ppid = witness[role]
        holders = by_pid.get(pid)
        if not holders:
            if required:
                problems.append(f"{role} (pid {pid}): missing from cowtrace")
            return
        p = holders[-1]
        exit_code = (p["exit"] or {}).get("code")
        if p["ppid"] != ppid or exit_code != code:
            problems.append(f"{role} (pid {pid}): cowtrace says parent {p['ppid']}, exit "
                            f"{p['exit']}; it was created by {ppid} and exited {code}")
        if not want_flags <= set(p["flags"]):
            problems.append(f"{role} (pid {pid}): flags {p['flags']}, want {sorted(want_flags)}")

    kernel = mode == "kernel"
    check("self", 63, {"exec_setid_image"}, True)
    for role, code in (("exits", 61), ("execs", 62)):
        if reaped.get(witness[role][0]) != code:
            problems.append(f"the witness says {role} ended {reaped.get(witness[role][0])}")
        check(role, code, {"untraced_creation", "not_instrumented"}, kernel)
    if kernel:
        # The shell the set-id program's child exec'd forks /bin/true: the kernel saw it too.
        shell = witness["execs"][0]
        grandchildren = [p for p in report["processes"] if p["ppid"] == shell]
        if [(p["exit"] or {}).get("code") for p in grandchildren] != [0]:
            problems.append(f"the set-id program's grandchild: {grandchildren}")
    for p in report["processes"]:
        if "records_missing" in p["flags"]:
            problems.append(f"pid {p['pid']}: records missing")
    if not report["trace"]["complete"]:
        problems.append("the trace has no end record")
    return problems


# --- a root command that switches to another user ----------------------------------------

# Drops to nobody, then forks (on the channel it opened as root), then execs a shell, which
# as nobody cannot reach the collector's private directory.
UID_SWITCH = """
import os
os.setgroups([]); os.setgid(65534); os.setuid(65534)
pid = os.fork()
if pid == 0:
    os._exit(21)
print("child", os.waitpid(pid, 0)[1] >> 8, flush=True)
os.execv("/usr/bin/dash", ["dash", "-c", "/bin/true; exit 22"])
"""


def uid_switch() -> int:
    if os.geteuid() != 0:
        print("SKIP: needs root to switch to nobody")
        return h.SKIP
    return h.run_case("uid_switch", ["/usr/bin/python3", "-c", UID_SWITCH], uid_switch_gaps)


def uid_switch_gaps(o: h.Outcome) -> None:
    """Trust is decided when a process connects, so one that drops privileges keeps its
    channel: its fork and its reaping are seen, and so is the child it forks, which reports on
    the connection it inherits. What runs as nobody after an exec cannot connect: the exec is
    flagged, and the shell's child is known only to the kernel."""
    root = o.traced.strace.root_pid
    h.judge_gap(o, end_unknown_without_kernel={root})  # strace reaps it, the shell is mute
    h.expect_flags(o, "the command that dropped privileges and exec'd", [root],
                   {"exec_as_other_uid"}, absent={"records_missing"})
    forked = h.ended(o, "code 21")
    h.expect_flags(o, "its child forked as nobody", forked, set(),
                   absent={"untraced_creation", "not_instrumented", "records_missing"})
    for pid in forked:
        p = o.cowtrace_process(pid)
        if p is not None and p["how"] != "fork":
            o.problems.append(f"the child forked as nobody: created by {p['how']!r}, want fork")
    shell_child = [p for p in h.children(o, [root]) if p not in forked]
    h.expect_flags(o, "the shell's child", shell_child,
                   {"untraced_creation", "not_instrumented"}, required_in_shim_mode=False)


# --- 10,000 processes in a minute ----------------------------------------------------------

LOAD_COUNT = 10_000


def ten_thousand_processes() -> int:
    tools = h.tool_paths()
    program = str(h.programs_dir() / "many_processes")
    untraced_dir, traced_dir = h.scratch_dir("load-untraced"), h.scratch_dir("load-traced")
    status = 1
    try:
        start = time.monotonic()
        untraced = h.run_untraced([program, str(LOAD_COUNT)], untraced_dir)
        untraced_s = time.monotonic() - start
        start = time.monotonic()
        traced = h.run_untraced([tools["COWTRACE_BIN"], "run", "-q", "-o", "trace", "--",
                                 program, str(LOAD_COUNT)], traced_dir)
        traced_s = time.monotonic() - start
        print(f"{LOAD_COUNT} processes: untraced {untraced_s:.1f} s, traced {traced_s:.1f} s")
        problems = []
        if traced.stdout != untraced.stdout or traced.returncode != untraced.returncode:
            problems.append(f"traced run printed {traced.stdout!r}, exit {traced.returncode};"
                            f" untraced {untraced.stdout!r}, {untraced.returncode}")
        # How long it took is a benchmark's business (tests/bench/run-benchmarks.sh), not a
        # test's: on a shared machine a time limit fails for reasons that are not cowtrace's.
        problems += load_report_problems(tools, traced_dir / "trace")
        if problems:
            print(f"FAIL ten_thousand_processes, files kept in {traced_dir}:")
            for p in problems:
                print("  " + p)
        else:
            print("PASS ten_thousand_processes")
            status = 0
    finally:
        shutil.rmtree(untraced_dir, ignore_errors=True)
        if status == 0:
            shutil.rmtree(traced_dir, ignore_errors=True)
    return status


def load_report_problems(tools, trace: Path) -> list[str]:
    start = time.monotonic()
    run = subprocess.run([tools["COWTRACE_BIN"], "report", str(trace), "--format", "json"],
                         capture_output=True, timeout=120)
    print(f"cowtrace report --format json took {time.monotonic() - start:.1f} s")
    if run.returncode != 0:
        return ["cowtrace report failed: " + run.stderr.decode(errors="replace")]
    report = json.loads(run.stdout)
    root = report["root_pid"]
    problems = []
    children = [p for p in report["processes"] if p["ppid"] == root]
    if len(children) != LOAD_COUNT:
        problems.append(f"cowtrace has {len(children)} children of the command, want "
                        f"{LOAD_COUNT}")
    # Child i exits i % 200 (every fifth execs /bin/true, exit 0): the codes' histogram.
    want_codes: dict[int, int] = {}
    for i in range(LOAD_COUNT):
        code = 0 if i % 5 == 4 else i % 200
        want_codes[code] = want_codes.get(code, 0) + 1
    got_codes: dict[object, int] = {}
    for p in children:
        code = (p["exit"] or {}).get("code", "unknown")
        got_codes[code] = got_codes.get(code, 0) + 1
    if got_codes != want_codes:
        wrong = {k: (got_codes.get(k), want_codes.get(k)) for k in got_codes.keys() | want_codes
                 if got_codes.get(k) != want_codes.get(k)}
        problems.append(f"exit codes differ (code: (cowtrace, want)): {wrong}")
    execs = sum(1 for p in children if any(e["ok"] for e in p["execs"]))
    if execs != LOAD_COUNT // 5:
        problems.append(f"{execs} children exec'd, want {LOAD_COUNT // 5}")
    flagged = [p["pid"] for p in report["processes"]
               if set(p["flags"]) & (h.GAP_FLAGS | {"records_missing"})]
    if flagged:
        problems.append(f"{len(flagged)} processes flagged, e.g. pid {flagged[0]}")
    trace = report["trace"]
    if not trace["complete"]:
        problems.append("the trace has no end record")
    if trace["dropped_records"]:
        problems.append(f"{trace['dropped_records']} records dropped")
    print(f"kernel events lost: {trace['kernel_events_lost']}")
    return problems


# --- the cases -----------------------------------------------------------------------------

def complete(command, extra=None):
    return lambda name: h.run_case(name, command, h.judge_complete, extra)


def gap(command, judge):
    return lambda name: h.run_case(name, command, judge)


CASES = {
    # The tracer's own descriptor: dup2/dup3 over it, close() of it, close_range and
    # closefrom from a thread.
    "fd_dup2_over_ours": complete(["{hostile}/fd_ours", "dup2", "{data}"]),
    "fd_close_range_from_thread": complete(["{hostile}/fd_ours", "close_range", "{data}"]),
    "fd_closefrom_from_thread": complete(["{hostile}/fd_ours", "closefrom", "{data}"]),
    # fork/_Fork/vfork/posix_spawn from several threads while others hold malloc/stdio locks.
    "fork_under_held_locks": complete(["{hostile}/fork_locks"]),
    # SIGCHLD/SIGALRM/SIGUSR1 storms whose handlers fork and exec.
    "signal_storm": complete(["{hostile}/signal_storm"]),
    "exec_failures": lambda name: h.run_case(name, ["{hostile}/exec_failures"],
                                             judge_exec_failures, exec_failures_recorded),
    # Every shell it starts forks /bin/true, which only an instrumented shell reports.
    "ld_preload_scrubbed": complete(["{hostile}/env_scrub"]),
    "self_exec_loop": complete(["{hostile}/self_exec", "60"]),
    "argv_env_at_kernel_limit": lambda name: h.run_case(name, ["{hostile}/long_args"],
                                                        judge_kernel_limit,
                                                        one_exec_without_room),
    # Where cowtrace cannot follow: the gap is named, the kernel still sees every process.
    "static_binary": lambda name: static_binary(),
    "deepbind_plugin": gap(["{hostile}/deepbind_host", "{hostile}/deepbind_plugin.so"],
                           deepbind_gaps),
    "raw_syscall_creation": gap(["{hostile}/raw_creation"], raw_syscall_gaps),
    "setuid_target": lambda name: setuid_target(),
    "uid_switch": lambda name: uid_switch(),
    "ten_thousand_processes": lambda name: ten_thousand_processes(),
}


def main(argv: list[str]) -> int:
    if argv[1:] == ["--list"]:
        print("\n".join(CASES))
        return 0
    if len(argv) != 2 or argv[1] not in CASES:
        print(f"usage: {argv[0]} CASE  (or --list)\ncases: {', '.join(CASES)}")
        return 2
    try:
        return CASES[argv[1]](argv[1])
    except h.Failure as e:
        print(f"FAIL {argv[1]}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""How a trace can be collected: `cowtrace run` (exit status, waiting for leftovers or not),
`cowtrace record` for programs started elsewhere, a spool file when no collector answers, and no
collector at all (the library must then change nothing the program can observe).

    test_collection_modes.py CASE"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

COWTRACE = os.environ["COWTRACE_BIN"]
LIB = os.environ["COWTRACE_LIB"]


def report(*paths):
    out = subprocess.run([COWTRACE, "report", "-f", "json", *paths], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def by_name(tree):
    """{basename of the last successful exec: [process, ...]}"""
    out = {}
    for p in tree["processes"]:
        ok = [e for e in p["execs"] if e["ok"]]
        name = os.path.basename(ok[-1]["path"]) if ok else "?"
        out.setdefault(name, []).append(p)
    return out


def check(cond, message, failures):
    if not cond:
        failures.append(message)


def exit_status_is_the_commands(work, failures):
    trace = os.path.join(work, "t.trace")
    cases = [(["bash", "-c", "exit 3"], 3), (["bash", "-c", "kill -TERM $$"], 128 + 15),
             (["/nonexistent/program"], 127), (["true"], 0)]
    for cmd, want in cases:
        rc = subprocess.run([COWTRACE, "run", "-q", "-o", trace, "--", *cmd]).returncode
        check(rc == want, f"{cmd}: cowtrace run exited {rc}, the command's status is {want}",
              failures)


def waits_for_leftovers_like_strace(work, failures):
    trace = os.path.join(work, "t.trace")
    t0 = time.time()
    rc = subprocess.run([COWTRACE, "run", "-q", "-o", trace, "--", "bash", "-c",
                         "(sleep 1; exit 7) & exit 0"]).returncode
    elapsed = time.time() - t0
    check(rc == 0, f"exit status {rc}", failures)
    check(elapsed >= 0.9, f"returned after {elapsed:.2f}s, before the orphan ended", failures)
    tree = report(trace)
    codes = [p["exit"]["code"] for p in tree["processes"] if p["exit"] and "code" in p["exit"]]
    check(7 in codes, f"the orphan's exit code 7 is missing (codes {codes})", failures)
    check(all(p["end_ns"] is not None for p in tree["processes"]), "a process without an end",
          failures)


def exit_with_command_marks_leftovers(work, failures):
    trace = os.path.join(work, "t.trace")
    t0 = time.time()
    rc = subprocess.run([COWTRACE, "run", "-q", "--exit-with-command", "-o", trace, "--", "bash",
                         "-c", "sleep 3 & exit 5"]).returncode
    elapsed = time.time() - t0
    check(rc == 5, f"exit status {rc}", failures)
    check(elapsed < 2.5, f"waited {elapsed:.2f}s for a leftover", failures)
    # The leftover is found as bash's child, not by name: bash may exit before its child has
    # exec'd sleep, and the collector stops with the command, so the child can end the trace as
    # a forked bash (seen once under TSan). Still running it is, either way.
    procs = report(trace)["processes"]
    pids = {p["pid"] for p in procs}
    shells = [p for p in procs if p["name"] == "bash" and p["ppid"] not in pids]
    leftovers = [p for p in procs if shells and p["ppid"] == shells[0]["pid"]]
    check(len(leftovers) == 1 and "still_running" in leftovers[0]["flags"],
          f"the leftover child is not marked still running: {leftovers}", failures)
    check(not shells or "still_running" not in shells[0]["flags"],
          f"the command itself is marked still running: {shells}", failures)
    subprocess.run(["pkill", "-f", "^sleep 3$"])


def record_collects_from_programs_started_elsewhere(work, failures):
    trace = os.path.join(work, "rec.trace")
    sock = os.path.join(work, "cowtrace.sock")
    rec = subprocess.Popen([COWTRACE, "record", "-q", "-o", trace, "--socket", sock])
    deadline = time.time() + 10
    while not os.path.exists(sock) and time.time() < deadline:
        time.sleep(0.05)
    env = dict(os.environ, LD_PRELOAD=LIB, COWTRACE_SOCKET=sock)
    out = subprocess.run(["bash", "-c", "echo hi | cat; sleep 0.1; exit 3"], env=env,
                         capture_output=True, text=True)
    rec.send_signal(signal.SIGTERM)
    rc = rec.wait(timeout=30)
    check(rc == 0, f"cowtrace record exited {rc}", failures)
    check(out.stdout == "hi\n" and out.returncode == 3, f"program output changed: {out}", failures)
    names = by_name(report(trace))
    for name in ("bash", "cat", "sleep"):
        check(name in names, f"{name} missing from the recorded tree ({sorted(names)})", failures)
    if "bash" in names:
        check(names["bash"][0]["exit"] and names["bash"][0]["exit"].get("code") == 3,
              f"bash exit {names['bash'][0]['exit']}", failures)


def spool_when_no_collector(work, failures):
    spool = os.path.join(work, "spool.trace")
    env = dict(os.environ, LD_PRELOAD=LIB, COWTRACE_SPOOL=spool)
    env.pop("COWTRACE_SOCKET", None)
    out = subprocess.run(["bash", "-c", "echo hi | cat; (exit 4); /bin/true"], env=env,
                         capture_output=True, text=True)
    check(out.stdout == "hi\n" and out.returncode == 0, f"program output changed: {out}", failures)
    check(os.stat(spool).st_mode & 0o777 == 0o600, "the spool file is not private (0600)",
          failures)
    tree = report(spool)
    ran = {os.path.basename(e["path"]) for p in tree["processes"] for e in p["execs"] if e["ok"]}
    for name in ("bash", "cat", "true"):
        check(name in ran, f"{name} missing from the spooled tree ({sorted(ran)})", failures)
    check(len(tree["processes"]) >= 4, f"{len(tree['processes'])} processes spooled", failures)


def no_collector_changes_nothing(work, failures):
    script = "echo out; echo err >&2; ls /nonexistent-path; exec 3>&-; exit 4"
    plain = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    for extra in ({}, {"COWTRACE_SOCKET": os.path.join(work, "nobody-listens.sock")}):
        env = dict(os.environ, LD_PRELOAD=LIB, **extra)
        traced = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
        check((traced.stdout, traced.stderr, traced.returncode) ==
              (plain.stdout, plain.stderr, plain.returncode),
              f"with {extra or 'no configuration'} the program behaved differently: "
              f"{traced} vs {plain}", failures)
    check(not [f for f in os.listdir(work) if f != "nobody-listens.sock"],
          f"the library wrote files: {os.listdir(work)}", failures)


def diagnostics_go_to_stderr(work, failures):
    """The collector's diagnostics (SPDLOG_LEVEL=debug: one line per event) never mix with the
    command's standard output, which passes through byte for byte."""
    trace = os.path.join(work, "t.trace")
    env = dict(os.environ, SPDLOG_LEVEL="debug")
    r = subprocess.run([COWTRACE, "run", "-q", "-o", trace, "--", "bash", "-c",
                        "echo out; /bin/echo child"], env=env, capture_output=True, text=True)
    check(r.stdout == "out\nchild\n" and r.returncode == 0,
          f"the command's output changed: {r.stdout!r}, exit {r.returncode}", failures)
    check("started bash as pid" in r.stderr, f"no diagnostics on stderr: {r.stderr!r}", failures)


def setup_failure_is_ours(work, failures):
    """When cowtrace cannot set itself up, it says why and exits 125 (not COMMAND's 127)."""
    r = subprocess.run([COWTRACE, "run", "-q", "-o", os.path.join(work, "no-dir", "t.trace"),
                        "--", "true"], capture_output=True, text=True)
    check(r.returncode == 125 and "cannot create trace file" in r.stderr,
          f"a trace in a missing directory: exit {r.returncode}, {r.stderr!r}", failures)


CASES = {f.__name__: f for f in (exit_status_is_the_commands, waits_for_leftovers_like_strace,
                                  exit_with_command_marks_leftovers,
                                  record_collects_from_programs_started_elsewhere,
                                  spool_when_no_collector, no_collector_changes_nothing,
                                  diagnostics_go_to_stderr, setup_failure_is_ours)}

if __name__ == "__main__":
    failures = []
    with tempfile.TemporaryDirectory(prefix="cowtrace-modes-") as work:
        CASES[sys.argv[1]](work, failures)
    for f in failures:
        print("FAILED:", f)
    sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""Soak test of `cowtrace record` as an agent (not in ctest's default run: it takes minutes).

An agent with rotation and metrics on runs under continuous fork/exec churn — shell loops
exec'ing /bin/true and /bin/sleep, and cow_writer forking children that copy — for --minutes.
Passes when nothing was lost (every trace file, rotated or current, is complete: `cowtrace
check` finds no lost record and an end record), every file reads, thousands of processes came
and went, and the collector's RSS at the end is within 10 % of its RSS after the first minute.

    tests/e2e/agent/soak.py [--build build] [--minutes 5] [--rotate-size 4MiB]

Figures of the runs made so far: docs/TESTING.md."""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from agent_tools import Agent, cowtrace, workdir  # noqa: E402

CHURN = ("while :; do /bin/true; /bin/sleep 0.02; done")
FORKS = ("while :; do \"$COW_WRITER\" --share 8 --child-writes 2 --parent-writes 1 "
         "--hold-ms 150 --children 4; done")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--rotate-size", default="4MiB")
    args = ap.parse_args()
    build = Path(args.build).resolve()
    os.environ.setdefault("COWTRACE_BIN", str(build / "bin" / "cowtrace"))
    os.environ.setdefault("COWTRACE_LIB", str(build / "lib" / "libcowtrace.so"))
    os.environ.setdefault("COW_WRITER", str(build / "tests" / "e2e" / "reports" / "cow_writer"))

    d = workdir("cowtrace-soak-")
    agent = Agent(d, "-q", "--rotate-size", args.rotate_size, "--keep", "10000",
                  "--metrics-file", str(d / "cowtrace.prom"), "--metrics-interval", "1s")
    env = agent.env()
    env["COW_WRITER"] = os.environ["COW_WRITER"]
    loads = [subprocess.Popen(["/bin/sh", "-c", script], env=env, start_new_session=True)
             for script in (CHURN, CHURN, FORKS)]
    start = time.monotonic()
    rss_first_minute = None
    samples = []
    try:
        while time.monotonic() - start < args.minutes * 60:
            time.sleep(5)
            elapsed = time.monotonic() - start
            rss = agent.rss_kib()
            samples.append((round(elapsed), rss))
            if rss_first_minute is None and elapsed >= 60:
                rss_first_minute = rss
            print(f"soak: {elapsed:6.0f} s  collector RSS {rss} KiB", flush=True)
    finally:
        for p in loads:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=60)
    time.sleep(2)  # the last records reach the agent
    rss_end = agent.rss_kib()
    status = agent.stop()

    files = sorted(d.glob("agent.trace*"), key=lambda p: int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0)
    failures = []
    processes = 0
    for f in files:
        out = cowtrace("check", str(f), "--max-processes", "100000000", "--format", "json", timeout=600)
        doc = json.loads(out.stdout or b"{}")
        if out.returncode != 0:
            failures.append(f"{f.name}: check exited {out.returncode}: "
                            + "; ".join(r["summary"] for r in doc.get("results", []) if r["verdict"] != "met"))
        rep = cowtrace("report", str(f), "--format", "json", timeout=600)
        if rep.returncode != 0:
            failures.append(f"{f.name}: report exited {rep.returncode}")
            continue
        model = json.loads(rep.stdout)
        processes += sum(1 for p in model["processes"] if "carried_over" not in p.get("flags", []))
    if status != 0:
        failures.append(f"the agent exited {status}")
    if rss_first_minute is None:
        failures.append("the soak ran less than a minute")
    elif rss_end > rss_first_minute * 1.10:
        failures.append(f"collector RSS grew from {rss_first_minute} KiB after 1 min to {rss_end} KiB")
    if processes < 1000:
        failures.append(f"only {processes} processes: not a soak")
    print(f"soak: {args.minutes:g} min, {processes} processes, {len(files)} trace files "
          f"({len(files) - 1} rotated), collector RSS {rss_first_minute} KiB after 1 min, "
          f"{rss_end} KiB at the end ({(rss_end / rss_first_minute - 1) * 100 if rss_first_minute else 0:+.1f}%)")
    print(f"soak: work directory {d}")
    for f in failures:
        print(f"soak: FAILED {f}")
    print(f"{0 if failures else 1} passed, {len(failures) and 1} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

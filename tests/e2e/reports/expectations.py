"""What a report should say, worked out from a synthetic trace's account (truth) alone: these
helpers never look at cowtrace's output, so a test compares two independent derivations."""
from __future__ import annotations

import os


def format_bytes(n: int) -> str:
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    v, i = float(n), 0
    while v >= 1024 and i < len(units) - 1:
        v /= 1024
        i += 1
    return f"{n} B" if i == 0 else f"{v:.1f} {units[i]}"


def processes_by_pid(truth: dict) -> dict[int, dict]:
    return {p["pid"]: p for p in truth["processes"]}


def name_of(truth: dict, pid: int) -> str:
    """A process is named after the program it runs: its own argv, else its creator's."""
    procs = processes_by_pid(truth)
    while pid in procs:
        p = procs[pid]
        if p["argv"]:
            return os.path.basename(p["argv"][0])
        pid = p["ppid"]
    return "?"


def frame_labels(truth: dict, creator: int, call_site: list[int]) -> list[str]:
    """Root-first frame labels: the collector's symbol where it wrote one, else the address."""
    return [truth["symbols"].get(f"{creator}:{ip}", hex(ip)) for ip in reversed(call_site)]


def folded_stacks(truth: dict) -> dict[str, int]:
    """Expected folded lines: program;frames…;fork → bytes copied (episode peaks, summed)."""
    procs = processes_by_pid(truth)
    out: dict[str, int] = {}
    for e in truth["episodes"]:
        child = procs[e["child"]]
        frames = frame_labels(truth, e["parent"], child["call_site"]) or ["[call site unknown]"]
        stack = ";".join([name_of(truth, e["parent"]), *frames, "fork"])
        out[stack] = out.get(stack, 0) + e["copied_bytes_peak"]
    return {k: v for k, v in out.items() if v > 0}


def tree_pss_peak(truth: dict) -> int:
    """The tree's PSS at its highest: the sum of each live process's latest sample."""
    procs = processes_by_pid(truth)
    changes = []
    for pid, samples in truth["memory"].items():
        for s in samples:
            changes.append((s["t_ns"], int(pid), s["pss_bytes"]))
        end = procs[int(pid)]["end_ns"]
        if end is not None:
            changes.append((max(end, samples[-1]["t_ns"]), int(pid), 0))
    changes.sort(key=lambda c: c[0])
    current: dict[int, int] = {}
    peak = 0
    for i, (t, pid, pss) in enumerate(changes):
        current[pid] = pss
        if i + 1 < len(changes) and changes[i + 1][0] == t:
            continue
        peak = max(peak, sum(current.values()))
    return peak


def peak_rss(truth: dict) -> tuple[int, int]:
    """(pid, bytes) of the highest RSS sample."""
    best = (0, 0)
    for pid, samples in truth["memory"].items():
        for s in samples:
            if s["rss_bytes"] > best[1]:
                best = (int(pid), s["rss_bytes"])
    return best

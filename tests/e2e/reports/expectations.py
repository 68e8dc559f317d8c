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


def summed_copied_peak(episodes: list[dict]) -> int:
    """The most the episodes' copies came to together: each holds its latest sample's copied
    bytes from the sample until the next, nothing before its fork or after its end."""
    changes = []
    for e in episodes:
        level = 0
        points = [(s["t_ns"], s["copied_bytes"]) for s in e["samples"]]
        if e["end_ns"] is not None:
            points.append((max(e["end_ns"], points[-1][0] if points else 0), 0))
        for t, v in points:
            changes.append((t, v - level))
            level = v
    peak = level = 0
    changes.sort(key=lambda c: c[0])
    for i, (t, delta) in enumerate(changes):
        level += delta
        if i + 1 == len(changes) or changes[i + 1][0] != t:
            peak = max(peak, level)
    return peak


def tree_pss_peak(truth: dict) -> int:
    """The tree's PSS at its highest: the sum of each live process's latest sample, except
    that a parent's sample taken before a fork no longer counts in full what the child shares.
    At a fork, half of the shared bytes pass from the parent's figure to the child's, until the
    child's first sample or the parent's next; at the end of the sharing (an exec: the episode's
    end; an exit: the process's own, which comes after its final census), half of what it still
    shared passes back to the parent until the parent's next sample."""
    procs = processes_by_pid(truth)
    ends = {}
    # (t, order, what, ...): at one instant moves first, then samples, then ends.
    events = []
    for pid, samples in truth["memory"].items():
        for s in samples:
            events.append((s["t_ns"], 1, "sample", int(pid), s["pss_bytes"]))
    for pid, p in procs.items():
        if p["end_ns"] is not None:
            last = truth["memory"].get(str(pid), [])
            ends[pid] = max([p["end_ns"]] + [s["t_ns"] for s in last])
            events.append((ends[pid], 2, "end", pid, 0))
    for e in truth["episodes"]:
        shared_at_end = e["samples"][-1]["shared_bytes"] if e["samples"] else \
            e["shared_bytes_at_fork"] - e["copied_bytes_final"]
        events.append((e["t_ns"], 0, "fork", e["parent"], e["child"], e["shared_bytes_at_fork"] // 2))
        if e["end_ns"] is not None:
            back = e["end_ns"]
            if e.get("end") == "exit" and e["child"] in ends:
                back = max(back, ends[e["child"]])
            events.append((back, 0, "back", e["child"], e["parent"], shared_at_end // 2))
    events.sort(key=lambda ev: (ev[0], ev[1]))
    figure: dict[int, int] = {}
    sampled, ended = set(), set()
    given: dict[int, list[int]] = {}  # parent -> children holding a share it gave them
    peak = 0
    for i, ev in enumerate(events):
        t, _, what = ev[:3]
        if what == "sample" and ev[3] not in ended:
            figure[ev[3]] = ev[4]
            sampled.add(ev[3])
            for child in given.pop(ev[3], []):
                if child not in sampled:
                    figure[child] = 0
        elif what == "end":
            figure[ev[3]] = 0
            ended.add(ev[3])
        elif what in ("fork", "back") and ev[4] not in ended:
            amount = min(ev[5], figure.get(ev[3], 0))
            figure[ev[3]] = figure.get(ev[3], 0) - amount
            figure[ev[4]] = figure.get(ev[4], 0) + amount
            if amount and ev[4] not in sampled:
                given.setdefault(ev[3], []).append(ev[4])
        if i + 1 < len(events) and events[i + 1][0] == t:
            continue
        peak = max(peak, sum(figure.values()))
    return peak


def peak_rss(truth: dict) -> tuple[int, int]:
    """(pid, bytes) of the highest RSS sample."""
    best = (0, 0)
    for pid, samples in truth["memory"].items():
        for s in samples:
            if s["rss_bytes"] > best[1]:
                best = (int(pid), s["rss_bytes"])
    return best

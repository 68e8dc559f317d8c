"""Reads the same facts out of `cowtrace report TRACE --format json`, for the subtree that
starts at the traced command (strace's child)."""
from __future__ import annotations

import os

from process_facts import COPY, NOT_COMPARED, SHARE, STRACE, ProcessFacts

# cowtrace's "how" by what the creation did to memory. For clone and syscall() that depends on
# flags or a number the report does not carry: not compared.
_HOW_CREATION = {
    "fork": COPY, "_Fork": COPY, "daemon": COPY, "forkpty": COPY, "fork (inside libc)": COPY,
    "vfork": SHARE, "posix_spawn": SHARE, "posix_spawnp": SHARE, "pidfd_spawn": SHARE,
    "system": SHARE, "popen": SHARE, "wordexp": SHARE,
    "clone": NOT_COMPARED, "raw syscall": NOT_COMPARED,
}


def _end(exit_json) -> str:
    if exit_json is None:
        return "unknown"
    if "signal" in exit_json:
        return f"signal {exit_json['signal']}"
    return f"code {exit_json['code']}"


def _is_strace(process: dict) -> bool:
    ok = [e for e in process["execs"] if e["ok"]]
    return bool(ok) and os.path.basename(ok[-1]["path"]) == "strace"


def _facts(process: dict, ppid) -> ProcessFacts:
    ok = [e for e in process["execs"] if e["ok"]]
    last = ok[-1]["path"] if ok else None
    creation = NOT_COMPARED if ppid == STRACE else _HOW_CREATION.get(process["how"], process["how"])
    return ProcessFacts(process["pid"], ppid, creation, len(ok), last, _end(process["exit"]))


def subtree_facts(report: dict, root_pid: int) -> tuple[dict[int, ProcessFacts], list[str]]:
    """The processes created (transitively) by root_pid, and any inconsistency found on the way
    (a pid listed twice in the subtree)."""
    processes = report["processes"]
    strace_pids = {p["pid"] for p in processes if _is_strace(p)}
    roots = [p for p in processes if p["pid"] == root_pid]
    problems = []
    if not roots:
        return {}, [f"cowtrace has no process {root_pid} (the traced command)"]
    root = next((p for p in roots if p["ppid"] in strace_pids), roots[0])
    facts = {root_pid: _facts(root, STRACE if root["ppid"] in strace_pids else root["ppid"])}
    children: dict[int, list[dict]] = {}
    for p in processes:
        if p is not root and p["ppid"] is not None:
            children.setdefault(p["ppid"], []).append(p)
    queue = [root_pid]
    while queue:
        parent = queue.pop(0)
        for child in children.pop(parent, []):
            if child["pid"] in facts:
                problems.append(f"cowtrace lists pid {child['pid']} twice in the tree")
                continue
            facts[child["pid"]] = _facts(child, parent)
            queue.append(child["pid"])
    return facts, problems


def flagged_processes(report: dict, pids, flag: str) -> list[int]:
    return [p["pid"] for p in report["processes"] if p["pid"] in pids and flag in p["flags"]]

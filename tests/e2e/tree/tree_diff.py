"""Compares two process trees fact by fact and renders both for a human when they differ."""
from __future__ import annotations

from process_facts import COLUMN_NAMES, COMPARED_FIELDS, NOT_COMPARED, ProcessFacts


def differences(expected: dict[int, ProcessFacts], actual: dict[int, ProcessFacts]) -> list[str]:
    out = []
    for pid in sorted(expected.keys() - actual.keys()):
        out.append(f"pid {pid}: in strace, missing from cowtrace")
    for pid in sorted(actual.keys() - expected.keys()):
        out.append(f"pid {pid}: in cowtrace, not in strace")
    for pid in sorted(expected.keys() & actual.keys()):
        for name in COMPARED_FIELDS:
            want, got = getattr(expected[pid], name), getattr(actual[pid], name)
            if name == "creation" and got == NOT_COMPARED:
                continue  # cowtrace cannot say (clone, syscall(): the report carries no flags)
            if want != got:
                out.append(f"pid {pid}: {name}: strace {want!r}, cowtrace {got!r}")
    return out


def _tree_lines(facts: dict[int, ProcessFacts], root: int) -> list[list[str]]:
    """Rows in creation-tree order, the pid indented by depth."""
    children: dict[object, list[int]] = {}
    for f in facts.values():
        children.setdefault(f.ppid, []).append(f.pid)
    rows, seen = [], set()

    def visit(pid: int, depth: int) -> None:
        seen.add(pid)
        cols = facts[pid].columns()
        cols[0] = "  " * depth + cols[0]
        rows.append(cols)
        for child in sorted(children.get(pid, [])):
            if child not in seen:
                visit(child, depth + 1)

    if root in facts:
        visit(root, 0)
    for pid in sorted(facts.keys() - seen):  # not reachable from the root
        rows.append(facts[pid].columns())
    return rows


def render(title: str, facts: dict[int, ProcessFacts], root: int) -> str:
    rows = [COLUMN_NAMES] + _tree_lines(facts, root)
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMN_NAMES))]
    lines = [title]
    for r in rows:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return "\n".join(lines)

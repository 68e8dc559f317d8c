"""What the tree tests compare for every process, whichever side the facts come from."""
from __future__ import annotations

from dataclasses import dataclass

# The traced command's creator: strace, which each side names differently.
STRACE = "strace"

# How a process was created, as far as both sides can tell: a copy of its parent's memory
# (fork, clone without CLONE_VM) or a child borrowing it until exec (vfork, posix_spawn).
COPY, SHARE, NOT_COMPARED = "copy", "share", "-"


@dataclass(frozen=True)
class ProcessFacts:
    pid: int
    ppid: int | str | None  # the creating process (STRACE for the traced command itself)
    creation: str  # COPY, SHARE, NOT_COMPARED, or what cowtrace said when it could not tell
    exec_count: int  # successful execs
    last_exec: str | None  # the last successful exec's path (AT_EXECFN: execveat gives /dev/fd/N…)
    end: str  # "code N", "signal N" or "unknown"

    def columns(self) -> list[str]:
        return [str(self.pid), str(self.ppid), self.creation, str(self.exec_count),
                self.last_exec or "-", self.end]


COLUMN_NAMES = ["pid", "ppid", "creation", "execs", "last exec", "end"]
COMPARED_FIELDS = ["ppid", "creation", "exec_count", "last_exec", "end"]

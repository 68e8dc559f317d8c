"""Reads the process tree out of `strace -f -q -e trace=process -o FILE`.

Each line starts with the pid of the task that made the call. A call interrupted by another
task's output is split into "… <unfinished ...>" and "<... NAME resumed>…" lines; they are joined
before parsing. Threads (clone with CLONE_THREAD) are not processes: what a thread does is booked
to its process, and its own exit is ignored.
"""
from __future__ import annotations

import re
import signal
from dataclasses import dataclass, field

from process_facts import COPY, NOT_COMPARED, SHARE, STRACE, ProcessFacts

_LINE = re.compile(r"^(\d+)\s+(.*)$")
_RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
_UNFINISHED = " <unfinished ...>"
_CALL = re.compile(r"^(\w+)\((.*)\)\s+=\s+(-?\d+|\?)(?:\s.*)?$", re.S)
_EXITED = re.compile(r"^\+\+\+ exited with (\d+) \+\+\+$")
_KILLED = re.compile(r"^\+\+\+ killed by (SIG\w+)(?: \(core dumped\))? \+\+\+$")
_CREATION_CALLS = {"fork", "vfork", "clone", "clone3"}
_EXEC_CALLS = {"execve", "execveat"}
_ESCAPES = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "a": 7, "b": 8, "\\": 92, '"': 34}


class StraceFormatError(Exception):
    pass


@dataclass
class _Process:
    pid: int
    creator_task: int | None = None  # the task (maybe a thread) whose call returned our pid
    creation: str = NOT_COMPARED
    execs: list[str] = field(default_factory=list)
    end: str = "unknown"


def first_string_literal(text: str) -> str | None:
    """Decodes the first C string literal strace printed in text."""
    start = text.find('"')
    if start < 0:
        return None
    out = bytearray()
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return out.decode("utf-8", "surrogateescape")
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "x":
            out.append(int(text[i + 2 : i + 4], 16))
            i += 4
        elif nxt in "01234567":
            digits = re.match(r"[0-7]{1,3}", text[i + 1 :]).group(0)
            out.append(int(digits, 8))
            i += 1 + len(digits)
        else:
            out.append(_ESCAPES.get(nxt, ord(nxt)))
            i += 2
    raise StraceFormatError(f"unterminated string in: {text}")


def exec_path(name: str, args: str) -> str:
    """The file an exec ran, named as the kernel names it to the new program (AT_EXECFN): the
    path execve was given; for execveat relative to a descriptor, /dev/fd/N[/path] (fexecve
    passes the descriptor and an empty path)."""
    path = first_string_literal(args) or ""
    if name == "execve" or path.startswith("/"):
        return path
    dirfd = args.split(",", 1)[0].strip()
    if dirfd == "AT_FDCWD":
        return path
    return f"/dev/fd/{dirfd}/{path}" if path else f"/dev/fd/{dirfd}"


class StraceTree:
    """The processes of one strace log, keyed by pid."""

    def __init__(self, text: str):
        self.root_pid: int | None = None
        self._processes: dict[int, _Process] = {}
        self._thread_owner: dict[int, int] = {}  # thread id -> its process
        self._pending: dict[int, str] = {}  # task -> start of an unfinished call
        # Tasks whose CLONE_THREAD clone never printed the new thread's id: the thread ended
        # the process (exit_group) before the clone returned in its creator.
        self._unreturned_thread_clones: set[int] = set()
        for line in text.splitlines():
            self._read_line(line)
        if self.root_pid is None:
            raise StraceFormatError("empty strace log")

    def facts(self) -> dict[int, ProcessFacts]:
        out = {}
        for pid, p in self._processes.items():
            if pid in self._thread_owner:
                continue  # a thread seen before the clone that made it was printed
            if self._is_thread_of_unreturned_clone(pid, p):
                continue
            ppid = STRACE if pid == self.root_pid else self._process_of(p.creator_task)
            last = p.execs[-1] if p.execs else None
            out[pid] = ProcessFacts(pid, ppid, p.creation, len(p.execs), last, p.end)
        return out

    def _is_thread_of_unreturned_clone(self, pid: int, p: _Process) -> bool:
        """A task no call created, seen while a thread's clone never returned, is that thread."""
        unreturned = self._unreturned_thread_clones | {
            task for task, start in self._pending.items()
            if start.startswith(tuple(_CREATION_CALLS)) and "CLONE_THREAD" in start}
        return (bool(unreturned) and pid != self.root_pid and p.creator_task is None
                and not p.execs)

    def _process_of(self, task: int | None) -> int | None:
        while task in self._thread_owner:  # a thread may have been made by another thread
            task = self._thread_owner[task]
        return task

    def _process(self, pid: int) -> _Process:
        return self._processes.setdefault(pid, _Process(pid))

    def _read_line(self, line: str) -> None:
        m = _LINE.match(line)
        if not m:
            raise StraceFormatError(f"unexpected line: {line!r}")
        task, text = int(m.group(1)), m.group(2)
        if self.root_pid is None:
            self.root_pid = task
        if text.endswith(_UNFINISHED):
            self._pending[task] = text[: -len(_UNFINISHED)]
            return
        resumed = _RESUMED.match(text)
        if resumed:
            text = self._pending.pop(task, resumed.group(1) + "(") + resumed.group(2)
        if text.startswith("+++"):
            self._read_end(task, text)
        elif not text.startswith("---"):  # "--- SIGCHLD {...} ---": signals are not facts here
            self._read_call(task, text)

    def _read_end(self, task: int, text: str) -> None:
        if task in self._thread_owner:
            return
        exited = _EXITED.match(text)
        killed = _KILLED.match(text)
        if exited:
            self._process(task).end = f"code {exited.group(1)}"
        elif killed:
            self._process(task).end = f"signal {int(signal.Signals[killed.group(1)])}"
        # "+++ superseded by execve …" (a thread exec'd): the process goes on

    def _read_call(self, task: int, text: str) -> None:
        call = _CALL.match(text)
        if not call:
            return  # not a finished call: nothing to book
        name, args, ret = call.groups()
        pid = self._process_of(task)
        if name in _CREATION_CALLS and ret == "?" and "CLONE_THREAD" in args:
            self._unreturned_thread_clones.add(task)
        elif name in _CREATION_CALLS and ret != "?" and int(ret) > 0:
            child = int(ret)
            if "CLONE_THREAD" in args:
                self._thread_owner[child] = task
            else:
                process = self._process(child)
                process.creator_task = task
                process.creation = SHARE if name == "vfork" or "CLONE_VM" in args else COPY
        elif name in _EXEC_CALLS and ret == "0":
            self._process(pid).execs.append(exec_path(name, args))
        else:
            self._process(pid)

"""The fixtures' checkpoints: every fixture process writes "<role> <pid> <phase>" to a FIFO and
stops itself (SIGSTOP), so that the test reads its pagemap as ground truth at that point."""

import os
import select
import time


def wait_stopped(pid, deadline):
    while time.time() < deadline:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        if state in ("T", "t"):
            return
        time.sleep(0.005)
    raise TimeoutError(f"process {pid} did not stop")


def collect(fifo_fd, roles, phase, pending, deadline, proc):
    """Reads lines until every role has reported phase and stopped; returns {role: pid}. pending
    keeps what was read ahead (an early "done") for the next call."""
    seen = {}
    while set(seen) != set(roles):
        if proc.poll() is not None:
            raise RuntimeError(f"cowtrace run ended early (status {proc.returncode}) "
                               f"at checkpoint {phase}")
        if time.time() > deadline:
            raise TimeoutError(f"checkpoint {phase}: only {sorted(seen)} of {roles} reported")
        lines = pending.pop("lines", [])
        if not lines:
            r, _, _ = select.select([fifo_fd], [], [], 1.0)
            if r:
                pending["buf"] = pending.get("buf", "") + os.read(fifo_fd, 4096).decode()
                *lines, pending["buf"] = pending["buf"].split("\n")
        for i, line in enumerate(lines):
            role, pid, ph = line.split()
            if ph != phase:
                pending["lines"] = lines[i:]
                break
            seen[role] = int(pid)
    for pid in seen.values():
        wait_stopped(pid, deadline)
    return seen

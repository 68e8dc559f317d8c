"""A fork child killed before it could ask for its final census says its final figures are its
last sample's.

    test_killed_child.py

A python3 parent (64 MiB of its own) forks two children that each write 16 MiB of it, then
stay: one exits by itself 400 ms later (it asks for and gets its exact final census), the other
is killed with SIGKILL by the parent (as multiprocessing.Pool.terminate() ends its workers) and
cannot. Under `cowtrace run`, both episodes are measured; the killed child's is marked
final_from_last_sample (its copies may have gone on after that sample), the other's is not, and
the text report says "(final figures from its last sample)" for the killed one only."""

import json
import os
import subprocess
import sys
import tempfile

COWTRACE = os.environ["COWTRACE_BIN"]
PYTHON = "/usr/bin/python3"

PROGRAM = r"""
import os, signal, time
data = bytearray(64 << 20)
for off in range(0, len(data), 4096): data[off] = 1

def child():
    for off in range(0, 16 << 20, 4096): data[off] = 2
    time.sleep(0.4)
    os._exit(0)

exits = os.fork()
if exits == 0: child()
killed = os.fork()
if killed == 0: child()
time.sleep(0.3)
os.kill(killed, signal.SIGKILL)
os.waitpid(killed, 0)
os.waitpid(exits, 0)
print(exits, killed)
"""


def main():
    work = tempfile.mkdtemp(prefix="cowtrace-killed-")
    trace = os.path.join(work, "t.trace")
    run = subprocess.run([COWTRACE, "run", "-q", "-o", trace, "--", PYTHON, "-c", PROGRAM],
                         capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        print(run.stdout, run.stderr)
        return 1
    exits, killed = (int(x) for x in run.stdout.split())
    model = json.loads(subprocess.run([COWTRACE, "report", "-f", "json", trace], check=True,
                                      capture_output=True, text=True).stdout)
    text = subprocess.run([COWTRACE, "report", trace], check=True, capture_output=True,
                          text=True).stdout
    forks = {f["child"]: f for f in model["forks"]}
    failures = []
    for pid, want in ((exits, False), (killed, True)):
        ep = forks.get(pid)
        if ep is None:
            failures.append(f"no episode for child {pid}")
            continue
        print(f"child {pid}: census {ep['census']}, final_from_last_sample "
              f"{ep['final_from_last_sample']}, copied final {ep['copied_bytes_final']}")
        if ep["census"] != "measured":
            failures.append(f"child {pid}: census {ep['census']}, it lived 300 ms or more")
        if ep["final_from_last_sample"] != want:
            failures.append(f"child {pid}: final_from_last_sample {ep['final_from_last_sample']}, "
                            f"want {want}")
        mine = text.split(f"({pid})", 1)[1].split("\n", 2)[1] if f"({pid})" in text else ""
        marked = "(final figures from its last sample)" in mine
        if marked != want:
            failures.append(f"child {pid}: the text report's cow line {mine.strip()!r}")
    if failures:
        print(text)
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

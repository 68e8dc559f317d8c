"""The collector's own CPU time (all its threads, from /proc/<pid>/stat, polled every 10 ms) while
`cowtrace run` traces a bash loop of N × /bin/true, for two builds run alternately, and the
ratio B/A per round and of the medians.

Usage: collector_cpu.py A_COWTRACE B_COWTRACE [N=500] [ROUNDS=5]"""
import os
import statistics
import subprocess
import sys
import time

if len(sys.argv) < 3:
    sys.exit(__doc__)
builds = {"A": sys.argv[1], "B": sys.argv[2]}
n = int(sys.argv[3]) if len(sys.argv) > 3 else 500
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
tck = os.sysconf("SC_CLK_TCK")
res = {k: [] for k in builds}
for r in range(rounds):
    for k, exe in builds.items():
        p = subprocess.Popen([exe, "run", "-o", os.path.join(os.environ.get("TMPDIR", "/tmp"), f"collector-cpu-{k}.trace"), "--", "bash", "-c",
                              f"for i in $(seq {n}); do /bin/true; done"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        last = 0
        while p.poll() is None:
            try:
                f = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
                last = (int(f[11]) + int(f[12])) / tck
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
            time.sleep(0.01)
        res[k].append(last)
for k, v in res.items():
    print(k, "collector CPU s, median", round(statistics.median(v), 3), [round(x, 2) for x in v])
print("B/A", round(statistics.median(res["B"]) / statistics.median(res["A"]), 3),
      "per-round", [round(b / a, 2) for a, b in zip(res["A"], res["B"])])

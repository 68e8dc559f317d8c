"""Fork latency traced vs untraced, measured side by side in one go.

    python3 tests/bench/fork_latency.py BUILD_DIR [MIB ...]

For each memory size, runs tests/bench/fork_latency (a process with MIB MiB touched that forks a
child which exits at once) plainly and under `cowtrace run`, alternating, and prints medians:
  fork()  — how long the parent's fork() call takes (what Redis reports as latest_fork_usec);
  reaped  — fork until the child is reaped (includes the child's baseline and final census).
The machine is shared and noisy: read the ratios, not the absolute numbers."""

import os
import statistics
import subprocess
import sys
import tempfile

ROUNDS = 20
TRIALS = 5


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = [tuple(map(float, line.split())) for line in out.splitlines() if line.strip()]
    return [r[0] for r in rows], [r[1] for r in rows]


def main():
    build = sys.argv[1]
    sizes = [int(x) for x in sys.argv[2:]] or [64, 1024]
    bench = os.path.join(build, "tests/bench/fork_latency")
    cowtrace = os.path.join(build, "bin/cowtrace")
    trace = os.path.join(tempfile.mkdtemp(), "bench.trace")
    print(f"{'MiB':>6} {'mode':>8} {'fork() us':>10} {'ratio':>6} {'reaped us':>10} {'ratio':>6}")
    for mib in sizes:
        plain_fork, plain_wait, traced_fork, traced_wait = [], [], [], []
        for _ in range(TRIALS):
            f, w = run([bench, str(mib), str(ROUNDS)])
            plain_fork += f
            plain_wait += w
            f, w = run([cowtrace, "run", "-q", "-o", trace, "--", bench, str(mib), str(ROUNDS)])
            traced_fork += f
            traced_wait += w
        pf, pw = statistics.median(plain_fork), statistics.median(plain_wait)
        tf, tw = statistics.median(traced_fork), statistics.median(traced_wait)
        print(f"{mib:>6} {'plain':>8} {pf:>10.0f} {'':>6} {pw:>10.0f}")
        print(f"{mib:>6} {'cowtrace':>8} {tf:>10.0f} {tf / pf:>6.2f} {tw:>10.0f} {tw / pw:>6.2f}")


if __name__ == "__main__":
    main()

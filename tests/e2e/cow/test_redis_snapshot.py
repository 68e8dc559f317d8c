"""cowtrace agrees with Redis about the copy-on-write cost of a BGSAVE.

Runs redis-server under `cowtrace run`, fills it, starts a BGSAVE while redis-benchmark keeps
overwriting keys, and compares the snapshot child's episode with what Redis itself reports:
`rdb_last_cow_size`, the peak of the child's own Private_Dirty readings (smaps, about once a
second plus a final reading). Private_Dirty counts every page only the child maps, so the
matching cowtrace figure is copied + retained + child-new at the peak. Also checks the timeline
has a sample for every sampling interval of the save."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import redis_bgsave  # noqa: E402

COWTRACE = os.environ["COWTRACE_BIN"]
TOLERANCE = 0.05  # Redis samples Private_Dirty about once a second; cowtrace every interval


def main():
    # --attach: the server is started plainly and observed with `cowtrace attach` (no library:
    # no final census as the child ends, so its last sample stands).
    attach = "--attach" in sys.argv[1:]
    # --unprivileged (with --attach): the server and the observer as one unprivileged user,
    # the census from the exclusive bit alone.
    unprivileged = "--unprivileged" in sys.argv[1:]
    work = tempfile.mkdtemp(prefix="cowtrace-redis-")
    run = redis_bgsave.run_bgsave(work, ["redis-server"], attach=attach, unprivileged=unprivileged)
    trace, redis_pid, persistence = run.trace, run.redis_pid, run.persistence
    assert run.cowtrace_status == 0, f"cowtrace exited {run.cowtrace_status}"
    assert persistence["rdb_last_bgsave_status"] == "ok", persistence
    redis_cow = int(persistence["rdb_last_cow_size"])

    report = json.loads(subprocess.run([COWTRACE, "report", "-f", "json", trace], check=True,
                                       capture_output=True, text=True).stdout)
    # Not root: the observer wrote the trace, and the server its snapshot, as that user.
    owners = {os.stat(trace).st_uid, os.stat(os.path.join(work, "dump.rdb")).st_uid}
    shutil.rmtree(work, ignore_errors=True)
    saves = [f for f in report["forks"] if f["parent"] == redis_pid and f["end"] == "exit"]
    assert len(saves) == 1, f"expected one BGSAVE episode, found {len(saves)}"
    ep = saves[0]
    samples = ep["samples"]
    ours = max(s["copied_bytes"] + s["retained_bytes"] + s["child_new_bytes"] for s in samples)
    print(f"Redis rdb_last_cow_size        {redis_cow:>12}")
    print(f"cowtrace peak private to child {ours:>12}  (copied peak {ep['copied_bytes_peak']}, "
          f"by parent {ep['copied_by_parent_bytes']}, mode {ep['mode']})")
    failures = []
    server = next(p for p in report["processes"] if p["pid"] == redis_pid)
    if attach and (not server["argv"] or "" in server["argv"]):
        # Redis rewrites its title and pads the rest with NULs: not arguments.
        failures.append(f"the server's command line as read from /proc: {server['argv']}")
    if unprivileged and ep["mode"] != "unprivileged":
        failures.append(f"census mode {ep['mode']}, not unprivileged")
    if unprivileged and owners & {0}:
        failures.append(f"the server or the observer ran as root (files owned by {owners})")
    if redis_cow < 8 << 20:
        failures.append(f"the save copied too little to compare ({redis_cow} bytes)")
    if abs(ours - redis_cow) > TOLERANCE * redis_cow:
        failures.append(f"cowtrace {ours} vs Redis {redis_cow}: more than {TOLERANCE:.0%} apart")
    if ep["copied_bytes_peak"] < redis_cow / 2:
        failures.append("most of the child's private memory should be copies")

    # A sample for every interval of the save (the interval may have been stretched to keep
    # sampling within its duty cycle: the trace says the longest interval used).
    interval = report["trace"]["sampling_interval_ns"]
    times = [ep["t_ns"]] + [s["t_ns"] for s in samples]
    gaps = [b - a for a, b in zip(times, times[1:])]
    print(f"{len(samples)} samples over {(ep['end_ns'] - ep['t_ns']) / 1e9:.1f} s, longest gap "
          f"{max(gaps) / 1e6:.0f} ms, interval {interval / 1e6:.0f} ms")
    # (Attached, the server's own sampling is what is compared; the timeline's resolution is
    # the run variant's check.)
    if not attach and max(gaps) > 1.5 * interval + 50e6:
        failures.append(f"a gap of {max(gaps) / 1e6:.0f} ms in the timeline "
                        f"(interval {interval / 1e6:.0f} ms)")
    if not attach and samples[-1]["t_ns"] != ep["end_ns"]:
        failures.append("the timeline does not end with the child's final state")
    if attach and ep["end_ns"] - samples[-1]["t_ns"] > 1.5 * interval + 50e6:
        failures.append("the last sample came more than an interval before the child ended")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

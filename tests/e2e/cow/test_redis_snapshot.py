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
import socket
import subprocess
import sys
import tempfile
import time

COWTRACE = os.environ["COWTRACE_BIN"]
TOLERANCE = 0.05  # Redis samples Private_Dirty about once a second; cowtrace every interval


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                          timeout=30).stdout


def info(port, section):
    out = {}
    for line in redis_cli(port, "info", section).splitlines():
        if ":" in line:
            k, v = line.strip().split(":", 1)
            out[k] = v
    return out


def main():
    work = tempfile.mkdtemp(prefix="cowtrace-redis-")
    port = free_port()
    trace = os.path.join(work, "redis.trace")
    server = subprocess.Popen(
        [COWTRACE, "run", "-q", "-o", trace, "--", "redis-server", "--port", str(port),
         "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", work,
         "--rdb-key-save-delay", "20", "--daemonize", "no", "--loglevel", "warning"])
    writer = None
    try:
        deadline = time.time() + 30
        while redis_cli(port, "ping").strip() != "PONG":
            if time.time() > deadline or server.poll() is not None:
                raise RuntimeError("redis-server under cowtrace did not start")
            time.sleep(0.1)
        subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-n", "100000", "-r",
                        "100000", "-d", "1000", "-P", "32", "-q"], check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
        redis_pid = int(info(port, "server")["process_id"])
        assert "Background saving started" in redis_cli(port, "bgsave")
        writer = subprocess.Popen(["redis-benchmark", "-p", str(port), "-t", "set", "-n",
                                   "100000000", "-r", "100000", "-d", "1000", "-P", "4", "-q"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 180
        while info(port, "persistence").get("rdb_bgsave_in_progress") != "0":
            if time.time() > deadline:
                raise RuntimeError("BGSAVE did not finish")
            time.sleep(0.2)
        persistence = info(port, "persistence")
        writer.kill()
        writer.wait()
        redis_cli(port, "shutdown", "nosave")
        rc = server.wait(timeout=60)
    finally:
        for p in (writer, server):
            if p is not None and p.poll() is None:
                p.kill()
    assert rc == 0, f"cowtrace run exited {rc}"
    assert persistence["rdb_last_bgsave_status"] == "ok", persistence
    redis_cow = int(persistence["rdb_last_cow_size"])

    report = json.loads(subprocess.run([COWTRACE, "report", "-f", "json", trace], check=True,
                                       capture_output=True, text=True).stdout)
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
    if max(gaps) > 1.5 * interval + 50e6:
        failures.append(f"a gap of {max(gaps) / 1e6:.0f} ms in the timeline "
                        f"(interval {interval / 1e6:.0f} ms)")
    if samples[-1]["t_ns"] != ep["end_ns"]:
        failures.append("the timeline does not end with the child's final state")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

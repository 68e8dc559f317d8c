"""cowtrace agrees with Redis about a BGSAVE when Redis was started through a wrapper script.

Container entry points start servers as `v=$(redis-server --version); exec redis-server ...`: the
wrapper forks a helper, then execs the server, which forks its snapshot child. Runs that under
`cowtrace run`, fills Redis, starts a BGSAVE while redis-benchmark keeps overwriting keys, and
compares the snapshot child's episode with Redis's own `rdb_last_cow_size` (the child's
Private_Dirty: copied + retained + child-new), as test_redis_snapshot.py does for a server
started directly. The parent keeps writing, so in exact mode it must have copied pages too, and
`cowtrace check --max-cow` below what Redis reports must fail."""

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
WRAPPER = 'v=$(redis-server --version); echo "starting $v" >&2; exec redis-server "$@"'


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
    work = tempfile.mkdtemp(prefix="cowtrace-redis-wrapper-")
    port = free_port()
    trace = os.path.join(work, "redis.trace")
    server = subprocess.Popen(
        [COWTRACE, "run", "-q", "-o", trace, "--", "bash", "-c", WRAPPER, "redis-wrapper",
         "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", work, "--rdb-key-save-delay", "20", "--daemonize", "no",
         "--loglevel", "warning"])
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
    limit = redis_cow // 2
    check = subprocess.run([COWTRACE, "check", trace, "--max-cow", str(limit)],
                           capture_output=True, text=True)
    shutil.rmtree(work, ignore_errors=True)

    failures = []
    root = [p for p in report["processes"] if p["pid"] == report["root_pid"]]
    if redis_pid != report["root_pid"]:
        failures.append(f"redis-server is pid {redis_pid}, the wrapper was {report['root_pid']}: "
                        "the wrapper did not exec it")
    helpers = [f for f in report["forks"] if f["parent"] == redis_pid and f["end"] == "exec"]
    if not helpers:
        failures.append("the wrapper's helper ($(redis-server --version)) has no episode")
    saves = [f for f in report["forks"] if f["parent"] == redis_pid and f["end"] == "exit"]
    if len(saves) != 1:
        failures.append(f"expected one BGSAVE episode, found {len(saves)}")
    else:
        ep = saves[0]
        ours = max(s["copied_bytes"] + s["retained_bytes"] + s["child_new_bytes"]
                   for s in ep["samples"])
        print(f"Redis rdb_last_cow_size        {redis_cow:>12}")
        print(f"cowtrace peak private to child {ours:>12}  (copied peak {ep['copied_bytes_peak']}, "
              f"by parent {ep['copied_by_parent_bytes']}, retained {ep['retained_bytes_final']}, "
              f"mode {ep['mode']})")
        if redis_cow < 8 << 20:
            failures.append(f"the save copied too little to compare ({redis_cow} bytes)")
        if abs(ours - redis_cow) > TOLERANCE * redis_cow:
            failures.append(f"cowtrace {ours} vs Redis {redis_cow}: more than {TOLERANCE:.0%} "
                            "apart")
        if ep["copied_bytes_peak"] < redis_cow / 2:
            failures.append("most of the child's private memory should be copies")
        if ep["mode"] == "exact" and not ep["copied_by_parent_bytes"]:
            failures.append("the server kept writing during the save, yet copied nothing")
        if max(s["shared_bytes"] for s in ep["samples"]) == 0:
            failures.append("the shared curve is 0 throughout")
    print(f"cowtrace check --max-cow {limit}: exit {check.returncode}")
    if check.returncode != 4:
        failures.append(f"cowtrace check --max-cow {limit} exited {check.returncode}, Redis "
                        f"copied {redis_cow}: it must fail with 4\n{check.stdout}{check.stderr}")
    if len(root) != 1 or root[0]["name"] != "redis-server":
        failures.append(f"the root is shown as {[p['name'] for p in root]}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import redis_bgsave  # noqa: E402

COWTRACE = os.environ["COWTRACE_BIN"]
TOLERANCE = 0.05  # Redis samples Private_Dirty about once a second; cowtrace every interval
WRAPPER = 'v=$(redis-server --version); echo "starting $v" >&2; exec redis-server "$@"'


def main():
    work = tempfile.mkdtemp(prefix="cowtrace-redis-wrapper-")
    run = redis_bgsave.run_bgsave(work, ["bash", "-c", WRAPPER, "redis-wrapper"])
    trace, redis_pid, persistence = run.trace, run.redis_pid, run.persistence
    assert run.cowtrace_status == 0, f"cowtrace run exited {run.cowtrace_status}"
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

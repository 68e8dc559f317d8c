"""Copy-on-write figures of real fork episodes against PFN ground truth.

    test_cow_fixtures.py SCENARIO MODE [static]     (MODE: exact | unprivileged)

Runs tests/e2e/cow/cow_fixture under `cowtrace run`, stops every fixture process right after
fork and again after its writes, reads their pagemaps (as root) at both points, and compares
cowtrace's final figures for each episode with the truth. Exact mode must agree within 1% of the
memory shared at fork, the unprivileged mode (cowtrace run by an unprivileged user) within 2%.
With `static`, COW_FIXTURE is the fixture linked statically: no library enters it, its forks
come from the kernel's events and each child's final figures are its last sample's. With
COW_LAUNCHER set, that program starts the fixture (vfork_exec: exec'd by a vfork child).
COW_MIB (default 64) sizes the fixture's memory, COW_INTERVAL and COW_CPU_SHARE (default
cowtrace's) the sampling interval and its share of a core: a large fixture at a short interval
has its periodic censuses read in slices, one a tick, and a static child's final figures are
then such a census's (or an estimate drawn from it)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoints  # noqa: E402
import pfn_truth  # noqa: E402

COWTRACE = os.environ["COWTRACE_BIN"]
FIXTURE = os.environ["COW_FIXTURE"]
MIB = int(os.environ.get("COW_MIB", "64"))
INTERVAL = ["--interval", os.environ["COW_INTERVAL"]] if os.environ.get("COW_INTERVAL") else []
INTERVAL += ["--cpu-share", os.environ["COW_CPU_SHARE"]] if os.environ.get("COW_CPU_SHARE") else []

# Which processes report at the checkpoints, and the (parent, child) roles of each episode.
SCENARIOS = {
    "parent_writes": (["parent", "child0"], [("parent", "child0")]),
    "child_writes": (["parent", "child0"], [("parent", "child0")]),
    "both": (["parent", "child0"], [("parent", "child0")]),
    "parent_frees": (["parent", "child0"], [("parent", "child0")]),
    "thp": (["parent", "child0"], [("parent", "child0")]),
    "fork_exec": (["parent", "child0"], [("parent", "child0")]),
    "ksm": (["parent", "child0"], [("parent", "child0")]),
    "several_children": (["parent", "child0", "child1", "child2"],
                         [("parent", "child0"), ("parent", "child1"), ("parent", "child2")]),
    "nested": (["parent", "child0", "grandchild"],
               [("parent", "child0"), ("child0", "grandchild")]),
}


class KsmDaemon:
    """Runs ksmd fast for the duration of a test, then puts its settings back."""
    SETTINGS = {"pages_to_scan": "20000", "sleep_millisecs": "10", "run": "1"}

    def __enter__(self):
        self.saved = {}
        for name, value in self.SETTINGS.items():
            path = f"/sys/kernel/mm/ksm/{name}"
            with open(path) as f:
                self.saved[name] = f.read().strip()
            with open(path, "w") as f:
                f.write(value)
        return self

    @staticmethod
    def pause():
        """Stops ksmd, keeping what it merged (run=0; run=2 would unmerge)."""
        with open("/sys/kernel/mm/ksm/run", "w") as f:
            f.write("0")

    def __exit__(self, *exc):
        for name in ("run", "sleep_millisecs", "pages_to_scan"):
            with open(f"/sys/kernel/mm/ksm/{name}", "w") as f:
                f.write(self.saved[name])


def run(scenario, mode, static=False):
    if scenario == "ksm":
        with KsmDaemon():
            return run_fixture(scenario, mode, static)
    return run_fixture(scenario, mode, static)


def run_fixture(scenario, mode, static):
    roles, episodes = SCENARIOS[scenario]
    work = tempfile.mkdtemp(prefix="cowtrace-cow-")
    os.chmod(work, 0o777)
    fifo = os.path.join(work, "sync")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o666)  # the unprivileged fixture writes to it
    trace = os.path.join(work, "run.trace")
    # COW_LAUNCHER: a program that starts the fixture its own way (vfork_exec: as a vfork child).
    launcher = [os.environ["COW_LAUNCHER"]] if os.environ.get("COW_LAUNCHER") else []
    cmd = [COWTRACE, "run", "-q", "--mode", mode, *INTERVAL, "-o", trace, "--", *launcher, FIXTURE,
           scenario, str(MIB), fifo]
    if mode == "unprivileged":
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + cmd
    fifo_fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # RDWR: no EOF between writers
    # COW_STALL_COLLECTOR: cowtrace is stopped (SIGSTOP) from just before the fork until the
    # fixture has written, so that it reads the child's memory late, after the copies.
    stall = os.environ.get("COW_STALL_COLLECTOR") == "1"
    env = dict(os.environ, COW_READY_CHECKPOINT="1") if stall else None
    proc = subprocess.Popen(cmd, cwd=work, env=env)
    deadline = time.time() + 120
    pending = {}
    try:
        if stall:
            ready = checkpoints.collect(fifo_fd, ["parent"], "ready", pending, deadline, proc)
            os.kill(proc.pid, signal.SIGSTOP)
            os.kill(ready["parent"], signal.SIGCONT)
        if scenario == "ksm":
            merged = checkpoints.collect(fifo_fd, ["parent"], "merged", pending, deadline, proc)
            KsmDaemon.pause()
            os.kill(merged["parent"], signal.SIGCONT)
        forked = checkpoints.collect(fifo_fd, roles, "forked", pending, deadline, proc)
        at_fork = {role: pfn_truth.snapshot(pid) for role, pid in forked.items()}
        resumed_wall_ns = time.time_ns()
        for pid in forked.values():
            os.kill(pid, signal.SIGCONT)
        done = checkpoints.collect(fifo_fd, roles, "done", pending, deadline, proc)
        now = {role: pfn_truth.snapshot(pid) for role, pid in done.items()}
        if stall:
            os.kill(proc.pid, signal.SIGCONT)
            time.sleep(0.5)  # it reads the child's memory now, before the fixture goes on
        for pid in done.values():
            os.kill(pid, signal.SIGCONT)
        rc = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(fifo_fd)
    assert rc == 0, f"cowtrace run exited {rc}"
    report = subprocess.run([COWTRACE, "report", "-f", "json", trace], check=True,
                            capture_output=True, text=True).stdout
    text = subprocess.run([COWTRACE, "report", trace], check=True, capture_output=True,
                          text=True).stdout
    shutil.rmtree(work, ignore_errors=True)
    model = json.loads(report)
    forks = {f["child"]: f for f in model["forks"]}

    zero = pfn_truth.zero_pfn()
    zero_page_kernel = zero != 0
    if not zero_page_kernel:
        print("note: this kernel gives read faults pages of their own (no zero page)")
    tolerance_share = 0.01 if mode == "exact" else 0.02
    failures = []
    for parent_role, child_role in episodes:
        child_pid = forked[child_role]
        ours = forks.get(child_pid)
        if ours is None:
            failures.append(f"{child_role} ({child_pid}): no episode in the trace")
            continue
        truth = pfn_truth.episode_truth(at_fork[child_role], at_fork[parent_role],
                                        now[child_role], now[parent_role], zero)
        tolerance = tolerance_share * truth["shared_at_fork"]
        print(f"{scenario}/{mode} episode {parent_role}->{child_role}: mode={ours['mode']}")
        # Every fixture child lingers after its writes: long enough to be worth a final census,
        # which a static child cannot ask for (its last sample, taken while it lingered, stands).
        if ours["census"] != "measured" or ours["final_from_last_sample"] != static:
            failures.append(f"{child_role}: census {ours['census']}, final figures from the "
                            f"last sample: {ours['final_from_last_sample']} (want {static})")
            continue
        if ours["mode"] != mode:
            failures.append(f"{child_role}: episode measured in mode {ours['mode']}, wanted {mode}")
        failures += [f"{child_role}: {f}" for f in pfn_truth.compare_episode(
            ours, truth, mode, tolerance, resumed_wall_ns, model["trace"]["wall_start_ns"])]
        if stall:
            # Read after every copy was made: none of them may be given a side by place.
            no_side = (ours["copied_bytes_final"] - (ours["copied_by_parent_bytes"] or 0)
                       - (ours["copied_by_child_bytes"] or 0))
            if no_side < truth["copied"] - tolerance:
                failures.append(f"{child_role}: read late, yet only {no_side} of "
                                f"{truth['copied']} bytes copied have no side")
            if "no side" not in text:
                failures.append("the text report does not say which copies have no side")
        # The fixture maps 2 MiB of zero page and 4 MiB it never shares: none of it counts. A
        # kernel without a zero page (pvm_no_zero_page=1) gives those reads real pages, which
        # fork shares like any other (the truth above counts them so): none may be called zero.
        if zero_page_kernel and ours["zero_page_bytes_at_fork"] < 2 * 1024 * 1024 * 0.98:
            failures.append(f"{child_role}: zero page not recognised "
                            f"({ours['zero_page_bytes_at_fork']} bytes)")
        if not zero_page_kernel and ours["zero_page_bytes_at_fork"] != 0:
            failures.append(f"{child_role}: {ours['zero_page_bytes_at_fork']} bytes called zero "
                            "page, but this kernel maps no zero page")
        expected_end = "exec" if scenario == "fork_exec" and child_role == "child0" else "exit"
        if ours["end"] != expected_end:
            failures.append(f"{child_role}: episode ended by {ours['end']}, expected {expected_end}")
        if scenario == "ksm" and mode == "exact" and ours["ksm_bytes_at_fork"] < (MIB << 20) * 0.8:
            failures.append(f"ksm: only {ours['ksm_bytes_at_fork']} bytes recognised as KSM-merged")
        if scenario == "thp" and ours["thp_bytes_at_fork"] < (MIB << 20) // 2:
            failures.append(f"thp: only {ours['thp_bytes_at_fork']} bytes of THP at fork "
                            "(is transparent_hugepage enabled?)")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2], sys.argv[3:] == ["static"]))

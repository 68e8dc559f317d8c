"""The collector fails; the host must not notice, and the trace must say what it lacks.

    test_collector_faults.py CASE"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

COWTRACE = os.environ["COWTRACE_BIN"]
LIB = os.environ["COWTRACE_LIB"]

# A host whose output we can compare: it forks and execs a few times, slowly enough for the
# collector to fail in the middle, and writes what it did to a file.
HOST = ("out=$1; for i in 1 2 3 4 5 6; do /bin/echo step $i >> $out; (exit $i); sleep 0.2; done;"
        " echo done >> $out; exit 3")


def report(*paths):
    r = subprocess.run([COWTRACE, "report", "-f", "json", *paths], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def expected_output(work):
    out = os.path.join(work, "plain.out")
    rc = subprocess.run(["bash", "-c", HOST, "host", out]).returncode
    with open(out) as f:
        return f.read(), rc


def collector_killed_mid_run(work, failures):
    want, want_rc = expected_output(work)
    out = os.path.join(work, "traced.out")
    trace = os.path.join(work, "t.trace")
    marker = os.path.join(work, "host.rc")
    run = subprocess.Popen([COWTRACE, "run", "-q", "-o", trace, "--", "bash", "-c",
                            HOST + "", "host", out], start_new_session=True)
    # Mid-run: once the host has begun its steps (a fixed delay killed a collector slowed by a
    # sanitizer before it had started the command).
    started = time.time() + 60
    while time.time() < started and not (os.path.exists(out) and "step 2" in open(out).read()):
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)  # the collector dies; its child (the host) lives on
    run.wait()
    deadline = time.time() + 30
    while time.time() < deadline:
        if os.path.exists(out) and open(out).read().endswith("done\n"):
            break
        time.sleep(0.1)
    time.sleep(0.3)
    got = open(out).read() if os.path.exists(out) else ""
    if got != want:
        failures.append(f"the host's output changed: {got!r} vs {want!r}")
    del marker, want_rc
    tree = report(trace)
    notes = " | ".join(n["text"] for n in tree["trace"]["notes"])
    if "collector lost at" not in notes:
        failures.append(f"the report does not say the collector was lost: {notes}")
    if "recovered from" not in notes:
        failures.append(f"the report does not say what the spool recovered: {notes}")
    echoes = [p for p in tree["processes"]
              if any(e["ok"] and e["path"].endswith("/echo") for e in p["execs"])]
    # Records queued in the dead collector's socket die with it; what is missing must be said.
    if len(echoes) < 6 and "were lost" not in notes:
        failures.append(f"{len(echoes)} of 6 echo processes, and no word of lost records: {notes}")
    if len(echoes) < 4:
        failures.append(f"only {len(echoes)} of 6 echo processes in the trace and spool together")


def collector_stalled(work, failures):
    want, want_rc = expected_output(work)
    out = os.path.join(work, "traced.out")
    trace = os.path.join(work, "t.trace")
    run = subprocess.Popen([COWTRACE, "run", "-q", "-o", trace, "--", "bash", "-c", HOST, "host",
                            out], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.3)
    run.send_signal(signal.SIGSTOP)  # back-pressure: the collector reads nothing for 3 s
    time.sleep(3)
    run.send_signal(signal.SIGCONT)
    stdout, stderr = run.communicate(timeout=60)
    rc = run.returncode
    got = open(out).read()
    if got != want or rc != want_rc:
        failures.append(f"the host changed: {got!r}/{rc} vs {want!r}/{want_rc}")
    # The host prints nothing: whatever cowtrace has to say about the stall goes to stderr.
    if stdout:
        failures.append(f"the command's standard output carries ours: {stdout!r} ({stderr!r})")
    tree = report(trace)
    echoes = [p for p in tree["processes"]
              if any(e["ok"] and e["path"].endswith("/echo") for e in p["execs"])]
    if len(echoes) != 6:
        failures.append(f"{len(echoes)} of 6 echo processes in the trace")
    missing = sum(p.get("records_missing", 0) for p in tree["processes"])
    if missing:
        failures.append(f"{missing} records missing although the spool took them")


def disk_full(work, failures):
    # 16 KiB: the 300 short processes below take about 60 KB of (compressed) trace.
    small = os.path.join(work, "small")
    os.mkdir(small)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", small]).returncode:
        failures.append("cannot mount a small tmpfs (needs root)")
        return
    try:
        trace = os.path.join(small, "t.trace")
        script = "for i in $(seq 300); do /bin/true; done; echo finished"
        r = subprocess.run([COWTRACE, "run", "-q", "-o", trace, "--", "bash", "-c", script],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0 or r.stdout != "finished\n":
            failures.append(f"the host changed when the disk filled: {r.returncode} {r.stdout!r}")
        if "incomplete" not in r.stderr:
            failures.append(f"cowtrace did not say the trace is incomplete: {r.stderr!r}")
        rep = subprocess.run([COWTRACE, "report", trace], capture_output=True, text=True)
        # Either the trace could say what it lost (space came back when the spool went), or
        # it is cut: the report says one or the other.
        # The file must still be whole records: a partial one followed by later writes would
        # make the rest unreadable ("damaged").
        said = rep.stdout + rep.stderr
        if rep.returncode != 0 or ("could not be written" not in said
                                   and "no end record" not in said):
            failures.append(f"the report of the cut trace does not say so: {rep.returncode} "
                            f"{rep.stderr[-300:]!r}")
        if "damaged" in said:
            failures.append(f"the trace is not whole records: {rep.stderr[-300:]!r}")
    finally:
        subprocess.run(["umount", small])


def foreign_uid_refused(work, failures):
    trace = os.path.join(work, "t.trace")
    sock = os.path.join(work, "open.sock")
    os.chmod(work, 0o755)
    rec = subprocess.Popen([COWTRACE, "record", "-q", "-o", trace, "--socket", sock])
    deadline = time.time() + 10
    while not os.path.exists(sock) and time.time() < deadline:
        time.sleep(0.05)
    os.chmod(sock, 0o777)  # let anybody connect: the collector itself must refuse them
    # Only the unprivileged process gets the library (setpriv itself starts as root).
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "env",
                        f"LD_PRELOAD={LIB}", f"COWTRACE_SOCKET={sock}", "bash", "-c",
                        "/bin/echo hello; exit 2"], capture_output=True, text=True)
    rec.send_signal(signal.SIGTERM)
    rec.wait(timeout=30)
    if r.stdout != "hello\n" or r.returncode != 2:
        failures.append(f"the refused host changed: {r}")
    tree = report(trace)
    if tree["processes"]:
        failures.append(f"records of another uid were accepted: {len(tree['processes'])} processes")
    if tree["trace"]["rejected_records"] == 0:
        failures.append("the trace does not count the refused records")


def foreign_files_refused(work, failures):
    """Files of another user where cowtrace writes or reads (a shared directory): the trace and
    the spool are never written into, and a spool planted next to a trace is not read with it."""
    os.chmod(work, 0o1777)

    def refused(planted, trace, says):
        """A file of nobody's at `planted`: `cowtrace run -o trace` must stop, say `says`, and
        leave the file alone."""
        with open(planted, "w") as f:
            f.write("not yours\n")
        os.chown(planted, 65534, 65534)
        r = subprocess.run([COWTRACE, "run", "-q", "-o", trace, "--", "true"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 125 or says not in r.stderr:
            failures.append(f"{planted} of another user was not refused: {r.returncode} "
                            f"{r.stderr!r}")
        if open(planted).read() != "not yours\n":
            failures.append(f"the other user's {planted} was written into")
        os.unlink(planted)

    refused(os.path.join(work, "planted.trace"), os.path.join(work, "planted.trace"),
            "belongs to uid 65534")
    # A spool of another user next to the trace we are about to write.
    trace = os.path.join(work, "t.trace")
    spool = trace + ".spool"
    refused(spool, trace, "not a file of ours")

    # A valid trace of ours, and, planted next to it, a spool of another user holding a valid
    # trace with processes of its own: the report must ignore it, and say so.
    other = os.path.join(work, "other.trace")
    subprocess.run([COWTRACE, "run", "-q", "-o", other, "--", "sh", "-c", "sh -c true"],
                   check=True, timeout=60)
    subprocess.run([COWTRACE, "run", "-q", "-o", trace, "--", "true"], check=True, timeout=60)
    os.rename(other, spool)
    os.chown(spool, 65534, 65534)
    tree = report(trace)
    if len(tree["processes"]) != 1:
        failures.append(f"the planted spool was read: {len(tree['processes'])} processes")
    notes = " | ".join(n["text"] for n in tree["trace"]["notes"])
    if "was not read" not in notes:
        failures.append(f"the report does not say it ignored the planted spool: {notes}")
    os.chown(spool, 0, 0)  # the same spool, ours: read with the trace
    if len(report(trace)["processes"]) <= 1:
        failures.append("a spool of the trace's owner was not read with it")


CASES = {f.__name__: f for f in (collector_killed_mid_run, collector_stalled, disk_full,
                                  foreign_uid_refused, foreign_files_refused)}

if __name__ == "__main__":
    failures = []
    with tempfile.TemporaryDirectory(prefix="cowtrace-faults-") as work:
        CASES[sys.argv[1]](work, failures)
    for f in failures:
        print("FAILED:", f)
    sys.exit(1 if failures else 0)

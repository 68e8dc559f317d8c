"""`cowtrace record` as a service: it restarts after it was killed, refuses a socket path it must
not take, has a default socket path that exists for every user (root included), leaves no trace
file behind when it cannot start, and shows a live status line on a terminal.

    test_record_restart.py CASE"""

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

COWTRACE = os.environ["COWTRACE_BIN"]
LIB = os.environ["COWTRACE_LIB"]


def check(cond, message, failures):
    if not cond:
        failures.append(message)


def start_record(trace, *args, env=None, **popen):
    rec = subprocess.Popen([COWTRACE, "record", "-o", trace, *args], env=env,
                           stderr=popen.pop("stderr", subprocess.PIPE), text=True, **popen)
    return rec


def wait_listening(sock, rec, deadline_s=20):
    """Until something accepts on sock (or rec ended)."""
    deadline = time.time() + deadline_s
    while time.time() < deadline and rec.poll() is None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            try:
                s.connect(sock)
                return True
            except OSError:
                pass
        time.sleep(0.05)
    return False


def traced_program(sock):
    env = dict(os.environ, LD_PRELOAD=LIB, COWTRACE_SOCKET=sock)
    return subprocess.run(["bash", "-c", "/bin/true; exit 3"], env=env).returncode


def names_in(trace):
    out = subprocess.run([COWTRACE, "report", "-f", "json", trace], capture_output=True,
                         text=True)
    if out.returncode != 0:
        return set()
    return {p["name"] for p in json.loads(out.stdout)["processes"]}


def stop(rec):
    rec.send_signal(signal.SIGTERM)
    _, err = rec.communicate(timeout=30)
    return rec.returncode, err


def restarts_after_it_was_killed(work, failures):
    sock = os.path.join(work, "c.sock")
    first = start_record(os.path.join(work, "first.trace"), "--socket", sock)
    check(wait_listening(sock, first), "the first collector did not listen", failures)
    first.send_signal(signal.SIGKILL)
    first.wait()
    check(os.path.exists(sock), "the killed collector's socket should be left behind", failures)
    trace = os.path.join(work, "second.trace")
    second = start_record(trace, "--socket", sock)
    listening = wait_listening(sock, second)
    rc3 = traced_program(sock) if listening else None
    rc, err = stop(second)
    check(listening and rc == 0, f"the restarted collector exited {rc}: {err.strip()}", failures)
    check(rc3 == 3, f"the traced program exited {rc3}", failures)
    check({"bash", "true"} <= names_in(trace),
          f"the restarted collector's trace lacks the program: {names_in(trace)}", failures)


def refuses_a_live_collectors_socket(work, failures):
    sock = os.path.join(work, "c.sock")
    first = start_record(os.path.join(work, "first.trace"), "--socket", sock)
    check(wait_listening(sock, first), "the first collector did not listen", failures)
    trace = os.path.join(work, "second.trace")
    second = start_record(trace, "--socket", sock)
    _, err = second.communicate(timeout=30)
    print(f"second collector: exit {second.returncode}: {err.strip()}")
    check(second.returncode == 125, f"the second collector exited {second.returncode}", failures)
    check("another collector" in err and sock in err,
          f"the message does not say another collector listens there: {err!r}", failures)
    check(not os.path.exists(trace), "the second collector left a trace file behind", failures)
    check(wait_listening(sock, first), "the first collector's socket was taken away", failures)
    rc3 = traced_program(sock)
    rc, _ = stop(first)
    check(rc == 0 and rc3 == 3, f"the first collector exited {rc}, the program {rc3}", failures)
    check("bash" in names_in(os.path.join(work, "first.trace")),
          "the first collector no longer records", failures)


def refuses_a_path_that_is_not_a_socket(work, failures):
    path = os.path.join(work, "notes.txt")
    with open(path, "w") as f:
        f.write("keep me\n")
    trace = os.path.join(work, "t.trace")
    rec = start_record(trace, "--socket", path)
    _, err = rec.communicate(timeout=30)
    print(f"exit {rec.returncode}: {err.strip()}")
    check(rec.returncode == 125, f"exit {rec.returncode}", failures)
    check("not a socket" in err, f"the message does not say it is not a socket: {err!r}",
          failures)
    check(open(path).read() == "keep me\n", "the file at the socket path was changed", failures)
    check(not os.path.exists(trace), "a trace file was left behind", failures)


def no_trace_left_when_it_cannot_start(work, failures):
    trace = os.path.join(work, "t.trace")
    with open(trace, "wb") as f:
        f.write(b"an earlier recording")
    sock = os.path.join(work, "missing-dir", "cowtrace.sock")
    rec = start_record(trace, "--socket", sock)
    _, err = rec.communicate(timeout=30)
    print(f"exit {rec.returncode}: {err.strip()}")
    check(rec.returncode == 125, f"exit {rec.returncode}", failures)
    check(os.path.dirname(sock) in err, f"the message does not name the directory: {err!r}",
          failures)
    check(open(trace, "rb").read() == b"an earlier recording",
          "the trace file of an earlier recording was truncated", failures)


def default_socket_exists_for_root(work, failures):
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    trace = os.path.join(work, "t.trace")
    rec = start_record(trace, env=env)
    # The banner names the socket: "... COWTRACE_SOCKET=<path> <program>".
    banner = ""
    for _ in range(3):  # written at once; "" if the collector ended
        banner += rec.stderr.readline()
    sock = banner.split("COWTRACE_SOCKET=", 1)[1].split()[0] if "COWTRACE_SOCKET=" in banner \
        else None
    print(f"default socket: {sock}")
    check(sock is not None, f"no socket path in the banner: {banner!r}", failures)
    if sock is None:
        rec.kill()
        return
    listening = wait_listening(sock, rec)
    check(listening, f"nothing listens on the default socket {sock}", failures)
    rc3 = traced_program(sock) if listening else None
    rc, err = stop(rec)
    check(rc == 0 and rc3 == 3, f"record exited {rc} ({err.strip()}), the program {rc3}",
          failures)
    check("bash" in names_in(trace), "the program is missing from the trace", failures)
    check(not os.path.exists(sock), "the socket is left behind after a clean stop", failures)


def status_line_on_a_terminal(work, failures):
    sock = os.path.join(work, "c.sock")
    trace = os.path.join(work, "t.trace")
    master, slave = pty.openpty()
    env = dict(os.environ, COWTRACE_PROGRESS_DELAY_MS="0")
    rec = start_record(trace, "--socket", sock, env=env, stderr=slave)
    os.close(slave)
    listening = wait_listening(sock, rec)
    traced_program(sock)
    seen = b""
    deadline = time.time() + 20
    # Until the line counts the program: bash and true, two processes.
    while time.time() < deadline and not re.search(rb"[2-9]\d* processes, \d+ forks, [1-9]",
                                                   seen.split(b"\r")[-1]):
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            seen += os.read(master, 4096)
    rec.send_signal(signal.SIGTERM)
    rec.wait(timeout=30)
    try:
        while select.select([master], [], [], 0.2)[0]:
            seen += os.read(master, 4096)
    except OSError:
        pass
    os.close(master)
    text = seen.decode(errors="replace")
    status = [s for s in text.replace("\n", "\r").split("\r") if "records" in s]
    print(f"status lines: {status[-3:]}")
    check(listening, "the collector did not listen", failures)
    check(bool(status), f"no status line on the terminal: {text!r}", failures)
    if status:
        last = status[-1]
        for word in ("process", "fork", "record", "lost"):
            check(word in last, f"the status line does not count {word}s: {last!r}", failures)
        check(re.search(r"[2-9]\d* processes", last),
              f"the status line does not count the traced program: {last!r}", failures)
    # Not on a pipe: the same collection writes no status line.
    rec = start_record(os.path.join(work, "t2.trace"), "--socket", sock, env=env)
    wait_listening(sock, rec)
    traced_program(sock)
    _, err = stop(rec)
    check("records" not in err, f"a status line went to a pipe: {err!r}", failures)


CASES = {f.__name__: f for f in (restarts_after_it_was_killed, refuses_a_live_collectors_socket,
                                 refuses_a_path_that_is_not_a_socket,
                                 no_trace_left_when_it_cannot_start,
                                 default_socket_exists_for_root, status_line_on_a_terminal)}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        sys.exit(f"usage: test_record_restart.py {{{'|'.join(CASES)}}}")
    problems = []
    with tempfile.TemporaryDirectory(prefix="cowtrace-record-") as work:
        CASES[sys.argv[1]](work, problems)
    for p in problems:
        print("FAILED:", p)
    sys.exit(1 if problems else 0)

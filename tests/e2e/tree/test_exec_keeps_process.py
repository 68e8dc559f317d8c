"""What an exec keeps and what it resets, as the process tree shows it.

    test_exec_keeps_process.py CASE

An exec keeps the process (pid, creator, children, the end still to come) and replaces its
image (name, command line). Each CASE runs a real program under `cowtrace run` and checks the
JSON and text reports:

  pre_exec_helper_names  helpers a wrapper forked before its exec (a bash subshell, a Python
                         os.fork child) are named after the wrapper, with its command line, not
                         after the image it exec'd later
  exec_from_thread       a thread other than the main one execs: still one process, with its
                         exec, its children and the new image's exit status
  exec_from_thread_late_collector  the same while the collector is stopped (SIGSTOP) until the
                         exec'd image has ended: it reads the old main thread's exit, the exec
                         and the real end all at once, with the process already gone
  main_thread_exits_first  the main thread ends (pthread_exit) while another thread goes on and
                         exits 5: the process ended with 5, as its last thread did
  main_thread_exits_first_late_collector  the same, read by a collector stopped until the end"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

COWTRACE = os.environ["COWTRACE_BIN"]
PYTHON = "/usr/bin/python3"


def run(work, command, expected_rc, while_running=None):
    trace = os.path.join(work, "t.trace")
    collector = subprocess.Popen([COWTRACE, "run", "-q", "-o", trace, "--", *command])
    if while_running:
        while_running(collector)
    rc = collector.wait(timeout=120)
    model = json.loads(subprocess.run([COWTRACE, "report", "-f", "json", trace], check=True,
                                      capture_output=True, text=True).stdout)
    text = subprocess.run([COWTRACE, "report", "-a", "-c", trace], check=True,
                          capture_output=True, text=True).stdout
    failures = [] if rc == expected_rc else [f"cowtrace run exited {rc}, expected {expected_rc}"]
    return model, text, failures


def root_of(model):
    roots = [p for p in model["processes"] if p["pid"] == model["root_pid"]]
    return roots


def pre_exec_helper_names(work):
    # Both wrappers fork a helper that runs no exec of its own, then exec sleep.
    cases = [
        (["bash", "-c", "v=$(echo helper); exec sleep 0.1", "wrapper-arg"], "bash",
         "bash -c 'v=$(echo helper); exec sleep 0.1' wrapper-arg"),
        ([PYTHON, "-c", "import os\npid = os.fork()\nif pid == 0: os._exit(0)\n"
          "os.waitpid(pid, 0)\nos.execv('/bin/sleep', ['sleep', '0.1'])"], "python3", None),
    ]
    failures = []
    for command, wrapper_name, wrapper_line in cases:
        model, text, f = run(work, command, 0)
        failures += f
        procs = model["processes"]
        root = root_of(model)
        if len(root) != 1:
            failures.append(f"{command[0]}: {len(root)} processes with the root's pid")
            continue
        if root[0]["name"] != "sleep":
            failures.append(f"{command[0]}: the wrapper's final image is {root[0]['name']!r}")
        helpers = [procs[i] for i in root[0]["children"]]
        if len(helpers) != 1:
            failures.append(f"{command[0]}: {len(helpers)} helpers, expected 1")
            continue
        helper = helpers[0]
        print(f"{command[0]}: helper {helper['pid']} named {helper['name']!r}, command line "
              f"{helper['command_line']!r}")
        if helper["name"] != wrapper_name:
            failures.append(f"{command[0]}: the helper forked before the exec is named "
                            f"{helper['name']!r}, it ran {wrapper_name}")
        if helper["command_line"] == root[0]["command_line"]:
            failures.append(f"{command[0]}: the helper has the later image's command line "
                            f"{helper['command_line']!r}")
        if wrapper_line is not None and helper["command_line"] != wrapper_line:
            failures.append(f"{command[0]}: helper command line {helper['command_line']!r}, "
                            f"expected {wrapper_line!r}")
        line = [ln for ln in text.splitlines() if f"({helper['pid']})" in ln]
        if not line or f"{wrapper_name}({helper['pid']})" not in line[0]:
            failures.append(f"{command[0]}: the text report shows the helper as {line}")
    return failures


def stopped_until(go, done):
    """Stops the collector, lets the program go on (creates `go`) and resumes the collector
    once the program has written `done` and ended: it then reads every kernel event of the
    program at once, the program already gone."""
    def stop(collector):
        time.sleep(0.5)  # the program is running, waiting for "go"
        collector.send_signal(signal.SIGSTOP)
        try:
            open(go, "w").close()
            deadline = time.monotonic() + 30
            while not os.path.exists(done) and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)  # it has ended
        finally:
            collector.send_signal(signal.SIGCONT)
    return stop


def exec_from_thread(work, late_collector=False):
    go, done = os.path.join(work, "go"), os.path.join(work, "done")
    program = ("import os, threading, time\n"
               f"while {late_collector} and not os.path.exists({go!r}): time.sleep(0.01)\n"
               f"args = ('/bin/sh', ['sh', '-c', 'sleep 0.2 & wait; : > {done}; exit 3'])\n"
               "t = threading.Thread(target=os.execv, args=args)\n"
               "t.start()\nt.join()\n")

    model, text, failures = run(work, [PYTHON, "-c", program], 3,
                                stopped_until(go, done) if late_collector else None)
    root = root_of(model)
    print(text)
    if len(root) != 1:
        return failures + [f"{len(root)} processes with the root's pid: the exec from a thread "
                           "split the process"]
    p = root[0]
    if p["exit"] is None or p["exit"].get("code") != 3:
        failures.append(f"the root's exit is {p['exit']}, the exec'd shell exited 3")
    if p["name"] != "sh":
        failures.append(f"the root's final image is {p['name']!r}, expected sh")
    if "untraced_creation" in p.get("flags", []):
        failures.append("the root is flagged untraced_creation")
    kids = [model["processes"][i] for i in p["children"]]
    if [k["name"] for k in kids] != ["sleep"]:
        failures.append(f"the root's children are {[k['name'] for k in kids]}, expected sleep")
    return failures


def exec_from_thread_late_collector(work):
    return exec_from_thread(work, late_collector=True)


def main_thread_exits_first(work, late_collector=False):
    go, done = os.path.join(work, "go"), os.path.join(work, "done")
    program = ("import ctypes, os, threading, time\n"
               f"while {late_collector} and not os.path.exists({go!r}): time.sleep(0.01)\n"
               f"def last():\n    time.sleep(0.3)\n    open({done!r}, 'w').close()\n"
               "    os._exit(5)\n"
               "threading.Thread(target=last).start()\n"
               "ctypes.CDLL(None).pthread_exit(None)\n")
    model, text, failures = run(work, [PYTHON, "-c", program], 5,
                                stopped_until(go, done) if late_collector else None)
    root = root_of(model)
    if len(root) != 1:
        return failures + [f"{len(root)} processes with the root's pid"]
    p = root[0]
    print(f"root exit {p['exit']}")
    if p["exit"] is None or p["exit"].get("code") != 5:
        failures.append(f"the root's exit is {p['exit']}, its last thread exited 5")
    return failures


def main_thread_exits_first_late_collector(work):
    return main_thread_exits_first(work, late_collector=True)


CASES = {f.__name__: f for f in (pre_exec_helper_names, exec_from_thread,
                                 exec_from_thread_late_collector, main_thread_exits_first,
                                 main_thread_exits_first_late_collector)}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        sys.exit(f"usage: test_exec_keeps_process.py {{{'|'.join(CASES)}}}")
    with tempfile.TemporaryDirectory(prefix="cowtrace-exec-") as work:
        problems = CASES[sys.argv[1]](work)
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems))
    sys.exit(1 if problems else 0)

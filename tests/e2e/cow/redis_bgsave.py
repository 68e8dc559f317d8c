"""A BGSAVE of a redis-server traced by `cowtrace run`, as both Redis tests run it: the server
filled with 100,000 keys of 1 KB, a BGSAVE slowed by --rdb-key-save-delay while redis-benchmark
keeps overwriting keys, then a clean shutdown. What Redis said about it and where the trace is
come back in a BgsaveRun."""

import dataclasses
import os
import socket
import subprocess
import time

COWTRACE = os.environ["COWTRACE_BIN"]
# An unprivileged user for the server and the observer alike (as root; else the caller's own).
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


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


@dataclasses.dataclass
class BgsaveRun:
    trace: str
    redis_pid: int        # the server's pid (after any wrapper's exec)
    persistence: dict     # INFO persistence once the save ended
    cowtrace_status: int


def run_bgsave(work, server_command, attach=False, unprivileged=False):
    """Runs `cowtrace run -- server_command + redis options` in work; server_command is the
    start of the command line (["redis-server"], or a wrapper that execs it). With attach, the
    server is started plainly and filled, then `cowtrace attach` observes it from outside.
    unprivileged (with attach): the server and `cowtrace attach` run as one unprivileged user
    (nobody when run as root), so the census is the unprivileged one."""
    port = free_port()
    trace = os.path.join(work, "redis.trace")
    user = AS_NOBODY if unprivileged and os.geteuid() == 0 else []
    if user:
        os.chmod(work, 0o777)  # the server's and the observer's files
    launcher = user if attach else [COWTRACE, "run", "-q", "-o", trace, "--"]
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    server = subprocess.Popen(
        [*launcher, *server_command, "--port", str(port),
         "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", work,
         "--rdb-key-save-delay", "20", "--daemonize", "no", "--loglevel", "warning"], env=env)
    writer = observer = None
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
        if attach:
            mode = ["--mode", "unprivileged"] if unprivileged else []
            observer = subprocess.Popen([*user, COWTRACE, "attach", "-q", "-o", trace, *mode,
                                         str(redis_pid)], env=env)
            deadline = time.time() + 30
            while not os.path.exists(trace) or os.path.getsize(trace) == 0:
                if time.time() > deadline or observer.poll() is not None:
                    raise RuntimeError("cowtrace attach did not start")
                time.sleep(0.05)
            time.sleep(0.2)  # its first census of the server
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
        if observer is not None:
            assert rc == 0, f"redis-server exited {rc}"
            rc = observer.wait(timeout=60)  # it ends with the server
    finally:
        for p in (writer, server, observer):
            if p is not None and p.poll() is None:
                p.kill()
    return BgsaveRun(trace, redis_pid, persistence, rc)

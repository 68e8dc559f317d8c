"""What the agent tests share: a `cowtrace record` agent started and stopped, traced programs
preloaded against its socket, free loopback ports, and HTTP reads on loopback only.

ctest sets COWTRACE_BIN, COWTRACE_LIB and COW_WRITER."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

TIMEOUT_S = 120


def tool(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set (run through ctest)")
    return value


def workdir(prefix: str = "cowtrace-agent-") -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, ready, timeout_s: float = 60.0, every_s: float = 0.2):
    """Polls ready() until it returns something true; fails with what after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = ready()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every_s)


def http_get(url: str, timeout_s: float = 10.0) -> bytes:
    assert url.startswith("http://127.0.0.1:"), url  # loopback only
    with urllib.request.urlopen(url, timeout=timeout_s) as r:
        return r.read()


def http_ok(url: str) -> bytes | None:
    try:
        return http_get(url, 2.0)
    except OSError:
        return None


def cowtrace(*args: str, timeout: int = TIMEOUT_S) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    return subprocess.run([tool("COWTRACE_BIN"), *args], capture_output=True, env=env, timeout=timeout)


class Agent:
    """`cowtrace record` in the background; stop() ends it with SIGTERM as systemd would."""

    def __init__(self, directory: Path, *extra: str, name: str = "agent", socket: Path | None = None):
        self.dir = directory
        self.trace = directory / f"{name}.trace"
        self.socket = socket or directory / f"{name}.sock"
        self.log = open(directory / f"{name}.log", "wb")
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        self.proc = subprocess.Popen([tool("COWTRACE_BIN"), "record", "-o", str(self.trace),
                                      "--socket", str(self.socket), *extra],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_for("the agent's socket", lambda: self.accepts() or self.proc.poll() is not None)
        if self.proc.poll() is not None:
            raise AssertionError(f"cowtrace record exited {self.proc.returncode}: {self.output()}")

    def accepts(self) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            try:
                s.connect(str(self.socket))
                return True
            except OSError:
                return False

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COWTRACE_")}
        env.update({"LD_PRELOAD": tool("COWTRACE_LIB"), "COWTRACE_SOCKET": str(self.socket)})
        return env

    def traced(self, *argv: str, timeout: int = TIMEOUT_S) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), env=self.env(), capture_output=True, timeout=timeout)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=TIMEOUT_S)
        self.log.close()
        return self.proc.returncode

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


def report_json(*traces: Path) -> dict:
    out = cowtrace("report", *map(str, traces), "--format", "json")
    if out.returncode != 0:
        raise AssertionError(f"cowtrace report exited {out.returncode}: {out.stderr.decode(errors='replace')}")
    return json.loads(out.stdout)


def prometheus_query(base: str, expr: str) -> list:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    doc = json.loads(http_get(url))
    if doc.get("status") != "success":
        raise AssertionError(f"query {expr} failed: {doc}")
    return doc["data"]["result"]

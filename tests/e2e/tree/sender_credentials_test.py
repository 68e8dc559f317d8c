#!/usr/bin/env python3
"""Every record the library sends carries its sender's credentials, whenever the collector asks.

The collector names a record's process from the SCM_CREDENTIALS the kernel attaches. The kernel
attaches them only while one end of the connection has SO_PASSCRED set (or before accept()). A
collector that sets it on the accepted socket leaves a window in which records arrive without
credentials: pid 0, uid 65534, refused or booked to "process 0". Here the collector side never
sets it until everything has been sent, after accept(), which is that window held open.

Needs COWTRACE_LIB (ctest sets it). Exits 0 on success, 1 on failure.
"""
from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import tempfile

UCRED = struct.Struct("iII")  # pid, uid, gid
TIMEOUT_S = 60


def records_with_credentials(conn: socket.socket) -> list[tuple[int, int]]:
    """(pid, uid) of every record queued on conn, as the kernel reports them."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)  # late, on purpose
    conn.setblocking(False)
    out = []
    while True:
        try:
            data, ancillary, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(UCRED.size))
        except BlockingIOError:
            return out
        if not data:
            return out
        pid, uid = 0, 65534  # what the kernel reports when no credentials were attached
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid, uid, _ = UCRED.unpack(payload[: UCRED.size])
        out.append((pid, uid))


def main() -> int:
    lib = os.environ.get("COWTRACE_LIB")
    if not lib:
        print("COWTRACE_LIB is not set (run through ctest)")
        return 1
    with tempfile.TemporaryDirectory(prefix="cowtrace-creds-") as workdir:
        path = os.path.join(workdir, "sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        server.bind(path)
        server.listen()
        server.settimeout(TIMEOUT_S)
        env = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": lib, "COWTRACE_SOCKET": path,
               "COWTRACE_CENSUS": "0"}
        # The shell says hello at start, then waits: its later records are sent after accept().
        child = subprocess.Popen(["/bin/sh", "-c", "read line; exit 3"],
                                 stdin=subprocess.PIPE, env=env)
        conn, _ = server.accept()
        child.communicate(b"go\n", timeout=TIMEOUT_S)
        records = records_with_credentials(conn)
    senders = {pid for pid, _ in records}
    print(f"{len(records)} records from pids {sorted(senders)}; the shell is {child.pid}")
    problems = []
    if child.returncode != 3:
        problems.append(f"the shell exited {child.returncode}, not 3")
    if len(records) < 2:
        problems.append("expected the shell's hello and at least one later record")
    if senders != {child.pid} or any(uid != os.geteuid() for _, uid in records):
        problems.append(f"records without their sender's credentials: {records}")
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

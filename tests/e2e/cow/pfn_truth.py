"""Ground truth for copy-on-write, computed independently of cowtrace: the page frame numbers of
two processes read from /proc/<pid>/pagemap (needs root). Two pages are shared when both
processes map the same frame at the same address; a page present in the child at fork is copied
when the frames differ, by the side whose frame moved since the fork-time snapshot."""

import ctypes
import os
import struct

PAGE = 4096
PRESENT = 1 << 63
FILE_OR_SHARED = 1 << 61
PFN_MASK = (1 << 55) - 1
SPECIAL = {"[vvar]", "[vdso]", "[vsyscall]", "[vvar_vclock]"}


def zero_pfn():
    """The frame of the kernel's zero page, learned by read-faulting two pages of a fresh
    mapping: both map it. 0 when they do not share a frame: some kernels (booted with
    pvm_no_zero_page=1, as some VMs are) give every read fault a page of its own."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    addr = libc.mmap(None, 2 * PAGE, 1, 0x22, -1, 0)  # PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS
    ctypes.string_at(addr, 1)
    ctypes.string_at(addr + PAGE, 1)
    with open("/proc/self/pagemap", "rb") as f:
        entries = struct.unpack("<QQ", os.pread(f.fileno(), 16, addr // PAGE * 8))
    frames = [e & PFN_MASK if e & PRESENT else 0 for e in entries]
    return frames[0] if frames[0] != 0 and frames[0] == frames[1] else 0


def private_mappings(pid):
    out = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(maxsplit=5)
            start, end = (int(x, 16) for x in parts[0].split("-"))
            name = parts[5].strip() if len(parts) > 5 else ""
            if parts[1][3] == "s" or name in SPECIAL:
                continue
            out.append((start, end, name))
    return out


def snapshot(pid):
    """{address: pagemap entry} for every present private anonymous page of pid."""
    pages = {}
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        for start, end, _ in private_mappings(pid):
            data = os.pread(f.fileno(), (end - start) // PAGE * 8, start // PAGE * 8)
            for i, entry in enumerate(struct.unpack(f"<{len(data) // 8}Q", data)):
                if entry & PRESENT and not entry & FILE_OR_SHARED:
                    pages[start + i * PAGE] = entry & PFN_MASK
    return pages


def episode_truth(child_at_fork, parent_at_fork, child_now, parent_now, zero):
    """Bytes shared at fork and, now: shared, copied (by parent / by child), retained."""
    t = dict(shared_at_fork=0, shared=0, copied=0, by_parent=0, by_child=0, retained=0)
    for addr, fork_frame in child_at_fork.items():
        if fork_frame == zero:
            continue
        t["shared_at_fork"] += PAGE
        c = child_now.get(addr)
        p = parent_now.get(addr)
        if c is None:
            continue
        if p is not None and p == c:
            t["shared"] += PAGE
        elif p is None:
            if c == fork_frame:
                t["retained"] += PAGE
            else:
                t["copied"] += PAGE
                t["by_child"] += PAGE
        else:
            t["copied"] += PAGE
            # Already two frames at the fork-time snapshot: the child's start-up writes.
            early = parent_at_fork.get(addr) not in (None, fork_frame)
            t["by_child" if early or c != fork_frame else "by_parent"] += PAGE
    return t


def compare_episode(ours, truth, mode, tolerance, resumed_wall_ns, wall_start_ns):
    """cowtrace's final figures of one episode (its JSON fork) against the truth: a line printed
    per figure, and the failures returned. In exact mode, copies cowtrace made no side of (its
    child's memory was read late, after the test had let the fixture run and write) may be
    either side's: each side is then checked between what cowtrace gave it and that plus the
    copies of no side, and only if the read really came after the fixture was let go."""
    failures = []
    compared = {
        "shared_bytes_at_fork": truth["shared_at_fork"],
        "copied_bytes_final": truth["copied"],
        "retained_bytes_final": truth["retained"],
    }
    no_side = 0
    if mode == "exact":
        compared["copied_by_parent_bytes"] = truth["by_parent"]
        compared["copied_by_child_bytes"] = truth["by_child"]
        no_side = (ours["copied_bytes_final"] - ours["copied_by_parent_bytes"]
                   - ours["copied_by_child_bytes"])
    elif ours["copied_by_parent_bytes"] is not None:
        failures.append("the unprivileged mode claims a parent/child split")
    read_at = wall_start_ns + ours["t_ns"] + (ours["baseline_delay_ns"] or 0)
    if no_side > tolerance:
        late_ms = (read_at - resumed_wall_ns) / 1e6
        print(f"  {no_side} bytes copied with no side: the child's memory was read "
              f"{late_ms:.1f} ms after the test let it run")
        if late_ms < -2:  # the two clocks were read apart: a little slack
            failures.append(f"{no_side} bytes copied with no side, but the child's memory was "
                            f"read before the fixture ran on ({-late_ms:.1f} ms)")
    for key, want in compared.items():
        got = ours[key]
        if key in ("copied_by_parent_bytes", "copied_by_child_bytes") and no_side > tolerance:
            ok = got - tolerance <= want <= got + no_side + tolerance
            shown = f"{got}+{no_side}?"
        else:
            ok = abs(got - want) <= tolerance
            shown = str(got)
        print(f"  {key:24} cowtrace {shown:>12}  truth {want:>12}  {'ok' if ok else 'MISMATCH'}")
        if not ok:
            failures.append(f"{key} = {shown}, truth {want} (tolerance {tolerance:.0f})")
    return failures

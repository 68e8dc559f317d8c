#!/usr/bin/env python3
"""cowtrace's benchmark suite (issue 11, item 3; the shim micro-benchmark of issue 9).

    tests/bench/run-benchmarks.sh [--quick] [--only NAME[,NAME...]] [--lib LIB.so ...]
                                  [--cowtrace BIN ...] [--build DIR] [--json FILE] [--list]

(run-benchmarks.sh builds what is needed, then runs this script with --build.)

The machine is assumed shared and noisy. Every comparison is made inside one invocation: the
runs of the modes being compared alternate (traced, untraced, traced, ... with the order
reversed every other trial), each figure is the median of repeated runs, and each ratio is
median(mode) / median(untraced), with the range of the per-trial ratios next to it to show the
noise. Nothing here asserts a time: read the figures.

--lib LIB.so (repeatable) names the libcowtrace.so to trace with (COWTRACE_LIB) and to preload
in the shim benchmark: with two, every traced mode is run once per library, side by side, so a
library before and after a change can be compared in one run. Without --lib, the build's own
library is used.

--cowtrace BIN (repeatable) names the cowtrace executable (the collector) of each traced mode,
paired one-to-one with --lib: `--lib A/lib/libcowtrace.so --cowtrace A/bin/cowtrace --lib
B/lib/libcowtrace.so --cowtrace B/bin/cowtrace` compares two whole builds side by side in one
run. Given without --lib, each executable traces with the library of its own build
(BIN/../../lib/libcowtrace.so). Without --cowtrace, every traced mode uses the build's
executable. What is not run once per traced mode (attach, record, the reports) uses the first;
the ingest benchmark's socket flood runs against each collector in turn.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

# ---------------------------------------------------------------------------------------------
# Helpers


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def clean_env(extra=None):
    """The driver's environment without anything of cowtrace's or a preload."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("COWTRACE_")}
    env.update(extra or {})
    return env


def fmt_us(us):
    if us != us:  # nan
        return "-"
    if us >= 1e6:
        return f"{us / 1e6:.2f} s"
    if us >= 1e4:
        return f"{us / 1e3:.1f} ms"
    if us >= 1e3:
        return f"{us / 1e3:.2f} ms"
    return f"{us:.0f} µs"


def fmt_ratio(r):
    return "-" if r != r else f"{r:.2f}"


def fmt_range(rs):
    rs = [r for r in rs if r == r]
    if not rs:
        return ""
    return f"[{min(rs):.2f}–{max(rs):.2f}]"


def table(headers, rows):
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(str(cell)))
    line = "  ".join(h.ljust(widths[i]) if i == 0 else h.rjust(widths[i])
                     for i, h in enumerate(headers))
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                        for i, c in enumerate(row)))
    print()


def mem_available_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / (1 << 20)
    return 0.0


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


class Mode:
    """One way of running a command: untraced, traced with a library, under strace..."""

    def __init__(self, name, prefix=(), env=None, traced=False):
        self.name = name
        self.prefix = list(prefix)
        self.env = env or clean_env()
        self.traced = traced

    def argv(self, command, trace=None):
        words = [w.replace("{trace}", trace or "/dev/null") for w in self.prefix]
        return words + list(command)


def interleaved(trials, modes, run_one):
    """Runs run_one(mode, trial) for every mode in every trial, alternating the order."""
    out = {m.name: [] for m in modes}
    for t in range(trials):
        order = modes if t % 2 == 0 else list(reversed(modes))
        for m in order:
            out[m.name].append(run_one(m, t))
    return out


def ratios(values, base):
    """Median ratio and per-trial ratios of values (a list per trial) against base."""
    med = median(values) / median(base) if base else float("nan")
    per = [v / b for v, b in zip(values, base) if b]
    return med, per


def timed_run(argv, env, cwd=None, stdout=subprocess.DEVNULL, max_rss=False):
    """Wall time (s), peak RSS (KiB; only with max_rss, else 0) and CPU time (s: user+system of
    the command and of the descendants it reaped) of one command, which must succeed.

    The peak RSS comes from /usr/bin/time: the ru_maxrss of a child of this script would count
    this script's own memory (the child starts as a copy of it; exec keeps the high-water mark)."""
    rss_file = None
    if max_rss and os.access("/usr/bin/time", os.X_OK):
        fd, rss_file = tempfile.mkstemp(prefix="rss-")
        os.close(fd)
        argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + list(argv)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}: {err.strip()[-500:]}")
    rss = 0
    if rss_file:
        with open(rss_file) as f:
            rss = int(f.read().split()[-1])
        os.unlink(rss_file)
    return wall, rss, usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------------------
# Reading a trace (docs/FORMAT.md): a 16-byte file header (magic, u32 version, u32 header size),
# then records — back to back (version 1), or as one zstd stream (version 2, what the collector
# writes) — each a 32-byte header (u32 size, u16 type, u16 flags, i32 pid, i32 tid, u64 t_ns,
# u32 seq, u32 reserved) and fields.

FILE_HEADER = struct.Struct("<8sII")
HEADER = struct.Struct("<IHHiiQII")
COMPRESSED_VERSION = 2
T_TRACE_END, T_EPISODE_START, T_EPISODE_SAMPLE, T_EPISODE_END = 2, 40, 41, 42
T_CREATED, T_EXEC_FAILED, T_WAIT_REAPED = 21, 24, 26


def trace_bytes(path):
    """The records of a trace file as they would follow the header of a version-1 file (with
    that header): a compressed file is decompressed by the zstd tool, which gives what it could
    of a stream that stops early (a killed collector) before it complains."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < FILE_HEADER.size:
        return data
    _magic, version, header_size = FILE_HEADER.unpack_from(data)
    if version != COMPRESSED_VERSION:
        return data
    out = subprocess.run(["zstd", "-dcq"], input=data[header_size:], capture_output=True)
    return data[:16] + out.stdout


def trace_records(path):
    """Yields (type, pid, t_ns, payload) for every record."""
    data = trace_bytes(path)
    pos = 16
    while pos + HEADER.size <= len(data):
        size, rtype, _flags, pid, _tid, t_ns, _seq, _ = HEADER.unpack_from(data, pos)
        if size < HEADER.size or pos + size > len(data):
            break
        yield rtype, pid, t_ns, data[pos + HEADER.size:pos + size]
        pos += size


def read_trace(path):
    """[(type, pid, t_ns, payload)] of every record."""
    return list(trace_records(path))


# ---------------------------------------------------------------------------------------------


class Suite:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.quick = args.quick
        self.episode_mib = [int(m) for m in str(getattr(args, "episode_mib", "2048")).split(",")
                            if m]
        self.attach_attribution = [a for a in getattr(args, "attach_attribution",
                                                      "off").split(",") if a]
        self.bench_dir = os.path.join(self.build, "tests/bench")
        default_cowtrace = os.path.join(self.build, "bin/cowtrace")
        default_lib = os.path.join(self.build, "lib/libcowtrace.so")
        cowtraces = [os.path.abspath(p) for p in (getattr(args, "cowtrace", None) or [])]
        libs = [os.path.abspath(p) for p in (args.lib or [])]
        if cowtraces and libs and len(cowtraces) != len(libs):
            sys.exit(f"run_benchmarks: --cowtrace pairs with --lib one to one: "
                     f"{len(cowtraces)} --cowtrace for {len(libs)} --lib")
        if not libs:
            # Each executable with its own build's library (as cowtrace itself finds it).
            libs = [os.path.join(os.path.dirname(os.path.dirname(c)), "lib/libcowtrace.so")
                    for c in cowtraces] or [default_lib]
        self.libs = libs
        self.cowtraces = cowtraces or [default_cowtrace] * len(libs)
        self.cowtrace = self.cowtraces[0]
        for lib in self.libs:
            if not os.path.isfile(lib):
                sys.exit(f"run_benchmarks: no library at {lib}")
        for c in self.cowtraces:
            if not os.access(c, os.X_OK):
                sys.exit(f"run_benchmarks: no cowtrace executable at {c}")
        self.lib_names = self._lib_names()
        self.root = os.geteuid() == 0
        self.cow_mode = "exact" if self.root else "unprivileged"
        self.tmp = tempfile.mkdtemp(prefix="cowtrace-bench-")
        self.results = {}
        self.summary = []  # (what, figure, target, status)

    def _lib_names(self):
        if len(self.libs) == 1:
            return ["traced"]
        names = []
        for i, lib in enumerate(self.libs):
            names.append(f"traced[{chr(ord('A') + i)}]")
        return names

    def program(self, name):
        return os.path.join(self.bench_dir, name)

    def trace_path(self, tag):
        return os.path.join(self.tmp, f"{tag}.trace")

    def traced_modes(self, extra=(), suffix=""):
        modes = []
        for name, lib, cowtrace in zip(self.lib_names, self.libs, self.cowtraces):
            prefix = [cowtrace, "run", "-q", "--mode", self.cow_mode, *extra,
                      "-o", "{trace}", "--"]
            modes.append(Mode(name + suffix, prefix, clean_env({"COWTRACE_LIB": lib}), True))
        return modes

    def no_cow_mode(self):
        prefix = [self.cowtrace, "run", "-q", "--no-cow", "-o", "{trace}", "--"]
        name = "traced --no-cow" + (f" [{self.lib_names[0][-2]}]" if len(self.libs) > 1 else "")
        return Mode(name, prefix, clean_env({"COWTRACE_LIB": self.libs[0]}), True)

    def untraced(self):
        return Mode("untraced")

    def note(self, what, figure, target, ok):
        status = "-" if ok is None else ("meets" if ok else "MISSES")
        self.summary.append((what, figure, target, status))

    # --- 1, 2: fork() latency and fork → reaped ---------------------------------------------

    def bench_fork(self):
        """fork() in the parent and fork → reaped (child _exits at once), 64 MiB / 1 / 4 GiB."""
        rounds = 8 if self.quick else 12
        # Writing 4 GiB takes seconds on a VM (every first write to a page is a fault in the
        # hypervisor too): fewer processes of that size.
        trials_of = {64: 3, 1024: 3, 4096: 2} if self.quick else {64: 5, 1024: 5, 4096: 3}
        sizes = [64, 1024, 4096]
        modes = [self.untraced()] + self.traced_modes()
        if not self.quick:
            modes.append(self.no_cow_mode())
        print(f"fork_latency MIB {rounds} --warmup 1, "
              f"{'/'.join(str(trials_of[s]) for s in sizes)} trials per mode for "
              f"{'/'.join(str(s) for s in sizes)} MiB, alternating; medians over all rounds; "
              f"ratio = traced/untraced, [per-trial range]")
        rows, res = [], {}
        for mib in sizes:
            need = mib / 1024 * 1.1 + 1
            if mem_available_gib() < need:
                print(f"  {mib} MiB skipped: {mem_available_gib():.1f} GiB available")
                continue

            def run_one(mode, t, mib=mib):
                cmd = [self.program("fork_latency"), str(mib), str(rounds), "--warmup", "1"]
                out = subprocess.run(mode.argv(cmd, self.trace_path("fork")), env=mode.env,
                                     check=True, capture_output=True, text=True).stdout
                rows_ = [tuple(map(float, l.split())) for l in out.splitlines() if l.strip()]
                return [r[0] for r in rows_], [r[1] for r in rows_]

            got = interleaved(trials_of[mib], modes, run_one)
            base_f = [median(f) for f, _ in got["untraced"]]
            base_w = [median(w) for _, w in got["untraced"]]
            pooled = {m: ([x for f, _ in v for x in f], [x for _, w in v for x in w])
                      for m, v in got.items()}
            res[mib] = {}
            for m in modes:
                f_all, w_all = pooled[m.name]
                f_tr = [median(f) for f, _ in got[m.name]]
                w_tr = [median(w) for _, w in got[m.name]]
                rf = median(f_all) / median(pooled["untraced"][0])
                rw = median(w_all) / median(pooled["untraced"][1])
                per_f = [a / b for a, b in zip(f_tr, base_f)]
                per_w = [a / b for a, b in zip(w_tr, base_w)]
                res[mib][m.name] = {"fork_us": median(f_all), "reaped_us": median(w_all),
                                    "fork_ratio": rf, "reaped_ratio": rw}
                traced = m.name != "untraced"
                rows.append([f"{mib} MiB", m.name, fmt_us(median(f_all)),
                             fmt_ratio(rf) if traced else "", fmt_range(per_f) if traced else "",
                             fmt_us(median(w_all)), fmt_ratio(rw) if traced else "",
                             fmt_range(per_w) if traced else ""])
                if traced and mib >= 1024 and m.traced and "--no-cow" not in m.name:
                    self.note(f"fork() latency {mib // 1024} GiB, {m.name}/untraced",
                              f"{rf:.2f}", "≤ 1.05", rf <= 1.05)
                if traced and mib <= 1024 and m.traced and "--no-cow" not in m.name:
                    self.note(f"fork→reaped {mib if mib < 1024 else 1} {'MiB' if mib < 1024 else 'GiB'},"
                              f" {m.name}/untraced", f"{rw:.2f}", "≤ 1.10", rw <= 1.10)
        table(["parent", "mode", "fork()", "ratio", "range", "fork→reaped", "ratio", "range"], rows)
        self.results["fork"] = res

    # --- 3: spawn-heavy shell loop ----------------------------------------------------------

    def bench_shell(self):
        """bash loop running /bin/true 1000 times."""
        trials = 3 if self.quick else 5
        cmd = ["bash", "-c", "for i in $(seq 1000); do /bin/true; done"]
        modes = [self.untraced()] + self.traced_modes()
        if not self.quick:
            modes.append(self.no_cow_mode())
        if shutil.which("strace") and not self.quick:
            modes.append(Mode("strace -f", ["strace", "-f", "-o", "/dev/null"]))
        print(f"{' '.join(cmd[:2])} '{cmd[2]}': {trials} trials per mode, alternating; "
              f"median wall time")
        got = interleaved(trials, modes,
                          lambda m, t: timed_run(m.argv(cmd, self.trace_path("shell")), m.env))
        self._wall_table("shell", got, modes, per_unit=1000, unit="per /bin/true",
                         target=1.10, target_what="spawn-heavy loop (1000 × /bin/true)")

    def _wall_table(self, key, got, modes, per_unit, unit, target, target_what):
        """got: mode → [(wall, maxrss, cpu)] per trial."""
        base = [w for w, _, _ in got["untraced"]]
        base_cpu = [c for _, _, c in got["untraced"]]
        rows, res = [], {}
        for m in modes:
            vals = [w for w, _, _ in got[m.name]]
            cpu = [c for _, _, c in got[m.name]]
            r, per = ratios(vals, base)
            rc, per_c = ratios(cpu, base_cpu)
            res[m.name] = {"wall_s": median(vals), "ratio": r, "cpu_s": median(cpu),
                           "cpu_ratio": rc, "walls": vals, "cpus": cpu}
            first = m.name == "untraced"
            rows.append([m.name, f"{median(vals):.2f} s", fmt_us(median(vals) / per_unit * 1e6),
                         "" if first else fmt_ratio(r), "" if first else fmt_range(per),
                         f"{median(cpu):.2f} s", "" if first else fmt_ratio(rc),
                         "" if first else fmt_range(per_c)])
            if m.traced and "--no-cow" not in m.name:
                self.note(f"{target_what}, {m.name}/untraced (wall)", f"{r:.2f}",
                          f"≤ {target:.2f}", r <= target)
                self.note(f"{target_what}, {m.name}/untraced (CPU)", f"{rc:.2f}", "-", None)
        table(["mode", "wall", unit, "ratio", "range", "CPU", "ratio", "range"], rows)
        print("  CPU: user+system time of the command and everything it reaped (under cowtrace "
              "run or strace, the tracer's own included)")
        print()
        self.results[key] = res

    # --- 4: make -j2 on a generated C project ------------------------------------------------

    def bench_make(self):
        """make -j2 on 40 generated .c files (a compile each, one link)."""
        trials = 3 if self.quick else 5
        project = os.path.join(self.tmp, "make-project")
        os.makedirs(project, exist_ok=True)
        n = 40
        for i in range(n):
            with open(os.path.join(project, f"unit{i:02d}.c"), "w") as f:
                f.write(f"#include <stdio.h>\nint f{i:02d}(int x) {{\n"
                        f"    int s = 0;\n    for (int k = 0; k < x; ++k) s += k * {i + 1};\n"
                        f"    return s;\n}}\n")
        with open(os.path.join(project, "main.c"), "w") as f:
            f.write("".join(f"int f{i:02d}(int);\n" for i in range(n)))
            f.write("int main(void) {\n    int s = 0;\n")
            f.write("".join(f"    s += f{i:02d}({i});\n" for i in range(n)))
            f.write("    return s == 0;\n}\n")
        with open(os.path.join(project, "Makefile"), "w") as f:
            f.write("OBJS := $(patsubst %.c,%.o,$(wildcard *.c))\n"
                    "prog: $(OBJS)\n\t$(CC) -o $@ $^\n"
                    "%.o: %.c\n\t$(CC) -O2 -c $< -o $@\n"
                    "clean:\n\trm -f *.o prog\n")
        modes = [self.untraced()] + self.traced_modes() + [self.no_cow_mode()]
        print(f"make -j2 of {n + 1} generated .c files (a fresh `make clean` before each run, "
              f"untimed): {trials} trials per mode, alternating; median wall time")

        def run_one(m, t):
            subprocess.run(["make", "-s", "clean"], cwd=project, check=True, env=clean_env())
            return timed_run(m.argv(["make", "-s", "-j2"], self.trace_path("make")), m.env,
                             cwd=project)

        got = interleaved(trials, modes, run_one)
        self._wall_table("make", got, modes, per_unit=n + 2, unit="per job",
                         target=1.10, target_what="make -j2 (41 compiles + link)")

    # --- 5: one census against a plain pread of the pagemap ----------------------------------

    def bench_census(self):
        """One census (exact mode as root) of a 1/4/16 GiB process vs a plain pagemap pread."""
        reps = 3 if self.quick else 5
        min_time = "0.05" if self.quick else "0.2"
        configs = [(1, "dense"), (1, "sparse"), (1, "thp"),
                   (4, "dense"), (4, "sparse"), (4, "thp"),
                   (16, "dense"), (16, "thp"), (16, "sparse"), (16, "zero")]
        if self.quick:
            configs = [(1, "dense"), (1, "sparse"), (1, "thp"), (4, "dense")]
        print(f"census_bench (Google Benchmark), one process per size and layout, "
              f"{reps} repetitions of each benchmark in random interleaved order, "
              f"min time {min_time} s; medians over repetitions; ratio = x / plain read "
              f"[per-repetition range]")
        print("layouts: dense = every 4 KiB page written; sparse = 1 page in 16 written; "
              "thp = every page written, MADV_HUGEPAGE; zero = every page read-faulted "
              "(zero page: no memory, nothing shared)")
        rows, res, skipped = [], {}, []
        for gib, layout in configs:
            resident = {"dense": gib * 1.25, "thp": gib * 1.25, "sparse": gib / 16 * 1.25,
                        "zero": 0}[layout] + gib / 512 * 2 + 0.5
            avail = mem_available_gib()
            if resident > avail - 3:
                skipped.append(f"{gib} GiB {layout} (needs ~{resident:.1f} GiB, "
                               f"{avail:.1f} GiB available, 3 GiB kept free)")
                continue
            env = clean_env({"COWTRACE_BENCH_GIB": str(gib), "COWTRACE_BENCH_LAYOUT": layout})
            out = subprocess.run(
                [self.program("census_bench"), f"--benchmark_repetitions={reps}",
                 "--benchmark_enable_random_interleaving=true",
                 f"--benchmark_min_time={min_time}", "--benchmark_format=json"],
                env=env, check=True, capture_output=True, text=True).stdout
            data = json.loads(out)
            times, cpus = {}, {}
            vma_pages, exact = 0, 0
            for b in data["benchmarks"]:
                if b.get("run_type") != "iteration":
                    continue
                name = b["run_name"].split("/")[0].replace("BM_", "")
                times.setdefault(name, []).append(b["real_time"])  # ms
                cpus.setdefault(name, []).append(b["cpu_time"])
                vma_pages = b.get("vma_pages", 0)
                exact = b.get("exact", 0)
            plain = times["PlainPagemapRead"]
            res[f"{gib}GiB-{layout}"] = {k: {"real_ms": median(v), "cpu_ms": median(cpus[k]),
                                             "ratio": median(v) / median(plain)}
                                         for k, v in times.items()}
            for name in ("PlainPagemapRead", "Census", "Baseline"):
                v = times[name]
                r = median(v) / median(plain)
                per = [a / b for a, b in zip(v, plain)]
                label = {"PlainPagemapRead": "plain pread", "Census": "census",
                         "Baseline": "baseline"}[name]
                if name == "Census" and not exact:
                    label += " (unprivileged)"
                rows.append([f"{gib} GiB {layout}", label, f"{median(v):.2f} ms",
                             f"{median(v) * 1e6 / vma_pages:.1f}" if vma_pages else "-",
                             "" if name == "PlainPagemapRead" else fmt_ratio(r),
                             "" if name == "PlainPagemapRead" else fmt_range(per),
                             f"{median(cpus[name]):.2f} ms"])
        table(["process", "what", "median", "ns/page", "ratio", "range", "CPU"], rows)
        for s in skipped:
            print(f"  skipped: {s}")
        if skipped:
            print()
        self.results["census"] = res

    # --- 6: the census thread's CPU share during a long episode ------------------------------

    def bench_episode(self):
        """Census thread CPU during a 4 s episode of a 2 GiB parent (rewriting 10 %)."""
        for mib in self.episode_mib:
            self._episode_of(mib)

    def _episode_of(self, mib):
        trials = 1 if self.quick else 3
        size = f"{mib // 1024} GiB" if mib % 1024 == 0 else f"{mib} MiB"
        cmd = [self.program("fork_latency"), str(mib), "1", "--child-ms", "4000",
               "--parent-write-pct", "10"]
        print(f"cowtrace run --mode {self.cow_mode} -- {' '.join(['fork_latency'] + cmd[1:])}: "
              f"a {size} parent forks a child that lives 4 s while the parent rewrites 10 % of "
              f"its pages; census thread CPU from /proc/<collector>/task/<tid>/schedstat "
              f"(polled every 20 ms), samples and their cost_ns from the trace; {trials} run(s) "
              f"per library")
        rows, res = [], {}
        for t in range(trials):
            for m in self.traced_modes():
                trace = self.trace_path(f"episode-{t}")
                r = self._one_episode(m, cmd, trace)
                res.setdefault(m.name, []).append(r)
                rows.append([m.name, f"{r['window_s']:.2f} s", f"{r['census_cpu_ms']:.0f} ms",
                             f"{r['census_cpu_before_final_ms']:.0f} ms",
                             f"{r['share'] * 100:.2f} %", f"{r['run_cpu_ms']:.0f} ms",
                             str(r["samples"]),
                             f"{r['interval_med_ms']:.0f} / {r['interval_max_ms']:.0f} ms",
                             f"{r['sample_cost_med_ms']:.1f} ms",
                             f"{r['first_sample_ms']:.0f} ms",
                             f"{r['between_share'] * 100:.2f} %",
                             f"{r['estimated_samples']}: {r['bound_med_pct']:.2f} / "
                             f"{r['bound_max_pct']:.2f} %"])
        table(["mode", "episode", "census CPU", "before final", "share", "whole run", "samples",
               "interval med/max", "cost/sample", "1st sample after fork", "between", "estimated: bound med/max"], rows)
        print("  census CPU: the census thread's CPU time from the fork to the end of the run "
              "(baseline, periodic samples, final census and its memory samples); before final: "
              "the same up to the child's request for its final census; share: census CPU / "
              "the episode's wall time; whole run: the thread's CPU over the run (process setup included); "
              "cost/sample: median cost_ns of the episode's samples (wall time of one census); "
              "between: the census and memory-sample threads' CPU share from the second sample "
              "to the final census request (what the duty cycle budgets: the exact reads at the "
              "ends excluded); "
              "estimated: how many samples were estimates, and their stated 95 % bound on the "
              "copied bytes in % of the bytes shared at the fork, median / largest")
        print()
        for name, runs in res.items():
            share = median([r["share"] for r in runs])
            between = median([r["between_share"] for r in runs])
            self.note(f"census thread share of a core, 4 s episode of {size}, {name}",
                      f"{share * 100:.2f} %", "≈ 2 % (duty cycle)", None)
            self.note(f"census thread share between baseline and final census, {size}, {name}",
                      f"{between * 100:.2f} %", "≤ 2 %", between <= 0.02)
            bound = median([r["bound_max_pct"] for r in runs])
            self.note(f"estimated samples' largest 95 % bound, % of shared at fork, {size}, "
                      f"{name}", f"{bound:.2f} %", "≤ 1 %", bound <= 1.0)
            gap = median([r["interval_max_ms"] for r in runs])
            self.note(f"longest gap between samples, {size}, {name}", f"{gap:.0f} ms",
                      "≤ 150 ms", gap <= 150)
        self.results["episode" if mib == 2048 else f"episode {size}"] = res

    def _one_episode(self, mode, cmd, trace):
        p = subprocess.Popen(mode.argv(cmd, trace), env=mode.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        polls = []  # (t_ns, {tid: cpu_ns})
        names = {}  # tid -> comm
        while p.poll() is None:
            now = time.monotonic_ns()
            cpu = {}
            try:
                for tid in os.listdir(f"/proc/{p.pid}/task"):
                    with open(f"/proc/{p.pid}/task/{tid}/schedstat") as f:
                        cpu[int(tid)] = int(f.read().split()[0])
                    if int(tid) not in names:
                        with open(f"/proc/{p.pid}/task/{tid}/comm") as f:
                            names[int(tid)] = f.read().strip()
            except (FileNotFoundError, ProcessLookupError, ValueError):
                pass
            if cpu:
                polls.append((now, cpu))
            time.sleep(0.02)
        err = p.stderr.read().decode(errors="replace")
        if p.returncode != 0:
            raise RuntimeError(f"episode run failed: {err}")
        others = {tid for _, cpu in polls for tid in cpu if tid != p.pid}
        # The census worker is named so (memory samples and fault sampling have threads of
        # their own); a build without names: the busiest of the collector's other threads.
        named = [tid for tid in others if names.get(tid) == "cowtrace-census"]
        census_tid = named[0] if named else max(
            others, key=lambda tid: max(c.get(tid, 0) for _, c in polls))
        records = read_trace(trace)
        start = next(r for r in records if r[0] == T_EPISODE_START)
        child = start[1]
        end = next((r for r in records if r[0] == T_EPISODE_END and r[1] == child), None)
        samples = [(r[2], struct.unpack_from("<7Q", r[3])[6]) for r in records
                   if r[0] == T_EPISODE_SAMPLE and r[1] == child]
        # Estimated samples' stated 95 % bounds (copied_error_bytes), against the bytes shared
        # at the fork (EpisodeStart: parent i32, fork_t_ns u64, mode as u16 length + bytes,
        # split_known u8, shared_bytes u64).
        estimated = [struct.unpack_from("<7Q?Q", r[3]) for r in records
                     if r[0] == T_EPISODE_SAMPLE and r[1] == child]
        bounds = [e[8] for e in estimated if e[7]]
        mode_len = struct.unpack_from("<H", start[3], 12)[0]
        shared_at_fork = struct.unpack_from("<Q", start[3], 14 + mode_len + 1)[0]
        t_fork = struct.unpack_from("<iQ", start[3])[1]
        t_end = end[2] if end else records[-1][2]

        def cpu_at(t):
            before = [c.get(census_tid, 0) for tp, c in polls if tp <= t]
            return before[-1] if before else 0

        def cpu_after(t):
            after = [c.get(census_tid, 0) for tp, c in polls if tp >= t]
            return after[0] if after else polls[-1][1].get(census_tid, 0)

        # To the end of the run: the episode's end is dated by the child's request for its final
        # census, which (with the memory samples that go with it) is taken after it. The run
        # ends as soon as the child is reaped.
        census_ns = max(c.get(census_tid, 0) for _, c in polls) - cpu_at(t_fork)
        ended_ns = cpu_after(t_end) - cpu_at(t_fork)
        window = max(1, t_end - t_fork)
        times = [t for t, _ in samples]
        # Between the baseline and the final census: from the second sample (its tick was
        # posted after the first was taken, so after the baseline, on the same thread) to the
        # child's request for its final census. What the duty cycle budgets: periodic samples
        # and memory samples, not the exact reads at the ends.
        between_from = times[1] if len(times) > 1 else t_end
        between_ns = cpu_at(t_end) - cpu_at(between_from)
        # The memory samples' thread spends its quarter of the duty cycle beside it.
        memory_tids = [tid for tid in others if names.get(tid) == "cowtrace-memory"]

        def memory_cpu_at(t):
            before = [sum(c.get(tid, 0) for tid in memory_tids) for tp, c in polls if tp <= t]
            return before[-1] if before else 0

        between_ns += memory_cpu_at(t_end) - memory_cpu_at(between_from)
        between_window = t_end - between_from
        intervals = [(b - a) / 1e6 for a, b in zip(times, times[1:])]
        return {
            "window_s": window / 1e9,
            "census_cpu_ms": census_ns / 1e6,
            "census_cpu_before_final_ms": ended_ns / 1e6,
            "share": census_ns / window,
            "between_share": between_ns / between_window if between_window > 0 else float("nan"),
            "run_cpu_ms": max(c.get(census_tid, 0) for _, c in polls) / 1e6,
            "samples": len(samples),
            "intervals_ms": intervals,
            "interval_med_ms": median(intervals) if intervals else float("nan"),
            "interval_max_ms": max(intervals) if intervals else float("nan"),
            "sample_cost_med_ms": median([c for _, c in samples]) / 1e6 if samples else 0,
            "sample_costs_ms": [c / 1e6 for _, c in samples],
            "first_sample_ms": (times[0] - t_fork) / 1e6 if times else float("nan"),
            "estimated_samples": len(bounds),
            "bound_med_pct": (100 * median(bounds) / shared_at_fork
                              if bounds and shared_at_fork else float("nan")),
            "bound_max_pct": (100 * max(bounds) / shared_at_fork
                              if bounds and shared_at_fork else float("nan")),
        }

    # --- 7: redis-benchmark during BGSAVE ----------------------------------------------------

    def bench_redis(self):
        """redis-benchmark SET throughput during BGSAVE, untraced vs under cowtrace run."""
        self.redis_during_bgsave([self.untraced()] + self.traced_modes(), "redis")

    def redis_during_bgsave(self, modes, key):
        if not (shutil.which("redis-server") and shutil.which("redis-benchmark")):
            print("  skipped: redis-server or redis-benchmark not installed\n")
            return
        rounds = 2 if self.quick else 4
        populate = 1_000_000 if self.quick else 2_000_000
        chunk = 20_000
        print(f"{len(modes)} redis-servers side by side (--save '' --appendonly no, loopback), "
              f"each populated with `redis-benchmark -t set -n {populate} -r 2000000 -d 300 "
              f"-P 16`; then {rounds} rounds, alternating servers: SET throughput "
              f"(redis-benchmark -t set -r 2000000 -d 300 -c 50, chunks of {chunk}) before and "
              f"during a BGSAVE")
        servers = {}
        try:
            for m in modes:
                servers[m.name] = RedisServer(self, m)
            for name, s in servers.items():
                t0 = time.monotonic()
                s.populate(populate)
                info = s.info("memory")
                print(f"  {name}: populated in {time.monotonic() - t0:.0f} s, "
                      f"used_memory {int(info['used_memory']) / (1 << 20):.0f} MiB, "
                      f"{s.info('keyspace').get('db0', '')}")
            got = interleaved(rounds, modes, lambda m, t: servers[m.name].bgsave_round(chunk))
        finally:
            for s in servers.values():
                s.stop()
        base = got["untraced"]
        rows, res = [], {}
        for m in modes:
            runs = got[m.name]
            idle = median([r["idle_rps"] for r in runs])
            during = median([r["bgsave_rps"] for r in runs])
            fork_us = median([r["fork_usec"] for r in runs])
            dur = median([r["bgsave_s"] for r in runs])
            first = m.name == "untraced"
            r_during = during / median([r["bgsave_rps"] for r in base])
            per = [a["bgsave_rps"] / b["bgsave_rps"] for a, b in zip(runs, base)]
            res[m.name] = {"idle_rps": idle, "bgsave_rps": during, "fork_usec": fork_us,
                           "bgsave_s": dur, "ratio": r_during, "runs": runs}
            rows.append([m.name, f"{idle:,.0f}", f"{during:,.0f}",
                         "" if first else fmt_ratio(r_during), "" if first else fmt_range(per),
                         f"{fork_us:,.0f} µs", f"{dur:.2f} s",
                         f"{median([r['chunks'] for r in runs]):.0f}"])
            if not first:
                self.note(f"redis SET rps during BGSAVE, {m.name}/untraced", f"{r_during:.2f}",
                          "-", None)
        table(["server", "SET/s idle", "SET/s in BGSAVE", "ratio", "range", "latest_fork_usec",
               "BGSAVE", "chunks"], rows)
        self.results[key] = res

    def bench_attribution(self):
        """What naming the code behind the copies costs: the copies' own time and Redis."""
        program = os.path.join(self.build, "tests/fixtures/split_writer")
        modes = [self.untraced()] + [
            m for a in ("off", "sampled", "full")
            for m in self.traced_modes(("--attribution", a), f" --attribution {a}")]
        trials = 3 if self.quick else 7
        print(f"split_writer --pages 25600: the parent writes 100 MiB it shares with its child "
              f"(25,600 copy-on-write faults); {trials} trials per mode, alternating; "
              f"the write phase's wall time (write_ms) and the writer's own CPU time in it "
              f"(write_cpu_ms: what the faults cost it, whatever else runs), medians; ratios "
              f"against untraced")

        def run_one(mode, t):
            out = subprocess.run(mode.argv([program, "--pages", "25600"],
                                           self.trace_path("attribution")),
                                 env=mode.env, check=True, capture_output=True, text=True).stdout
            figures = dict(l.split()[:2] for l in out.splitlines() if l.startswith("write_"))
            return {k: float(v) for k, v in figures.items()}

        got = interleaved(trials, modes, run_one)
        base = got["untraced"]
        rows, res = [], {}
        for m in modes:
            wall = [r["write_ms"] for r in got[m.name]]
            cpu = [r["write_cpu_ms"] for r in got[m.name]]
            r, per = ratios(wall, [b["write_ms"] for b in base])
            rc, per_c = ratios(cpu, [b["write_cpu_ms"] for b in base])
            res[m.name] = {"write_ms": median(wall), "ratio": r, "write_cpu_ms": median(cpu),
                           "cpu_ratio": rc, "runs": got[m.name]}
            first = m.name == "untraced"
            rows.append([m.name, f"{median(wall):.1f} ms", "" if first else fmt_ratio(r),
                         "" if first else fmt_range(per), f"{median(cpu):.1f} ms",
                         "" if first else fmt_ratio(rc), "" if first else fmt_range(per_c)])
            if not first:
                self.note(f"copies' cost, {m.name}/untraced", f"{r:.2f}", "-", None)
                self.note(f"copies' CPU, {m.name}/untraced", f"{rc:.2f}", "-", None)
        table(["mode", "write phase", "ratio", "range", "writer CPU", "ratio", "range"], rows)
        self.results["attribution_copies"] = res

        demo = os.path.join(self.build, "examples/snapshot_demo")
        print(f"\nsnapshot_demo --updates-per-second 1e9 --save-seconds 2: the parent updates keys as "
              f"fast as it can while the child saves; {trials} trials per mode, alternating; "
              f"updates per second during the save (the save lasts longer when traced: a count "
              f"would grow with it), median; ratio against untraced")

        def demo_one(mode, t):
            out = subprocess.run(mode.argv([demo, "--updates-per-second", "1e9", "--save-seconds",
                                            "2", "--output", os.path.join(self.tmp, "demo.bin")],
                                           self.trace_path("demo")),
                                 env=mode.env, check=True, capture_output=True, text=True).stdout
            # "snapshot written in 2.6 s while the parent made 7744478 updates"
            line = next(l for l in out.splitlines() if "updates" in l)
            seconds = float(line.split(" in ")[1].split()[0])
            return float(line.split("made ")[1].split()[0]) / seconds

        got = interleaved(trials, modes, demo_one)
        base = got["untraced"]
        rows, res = [], {}
        for m in modes:
            r, per = ratios(got[m.name], base)
            res[m.name] = {"updates_per_s": median(got[m.name]), "ratio": r}
            first = m.name == "untraced"
            rows.append([m.name, f"{median(got[m.name]):,.0f}", "" if first else fmt_ratio(r),
                         "" if first else fmt_range(per)])
            if not first:
                self.note(f"snapshot_demo updates/s, {m.name}/untraced", f"{r:.2f}", "-", None)
        table(["mode", "updates/s during the save", "ratio", "range"], rows)
        self.results["attribution_demo"] = res
        self.redis_during_bgsave(
            [self.untraced()] + [m for a in ("off", "sampled", "full")
                                 for m in self.traced_modes(("--attribution", a),
                                                            f" --attribution {a}")],
            "attribution_redis")

    # --- 7b: redis-benchmark with and without `cowtrace attach` --------------------------------

    def bench_attach(self):
        """redis-benchmark SET throughput of one server, observed by `cowtrace attach` or not."""
        if not (shutil.which("redis-server") and shutil.which("redis-benchmark")):
            print("  skipped: redis-server or redis-benchmark not installed\n")
            return
        rounds = 8 if self.quick else 24
        populate = 500_000 if self.quick else 1_000_000
        chunk = 20_000
        print(f"one redis-server started plainly (--save '' --appendonly no, loopback), populated "
              f"with `redis-benchmark -t set -n {populate} -r 2000000 -d 300 -P 16`; then "
              f"{rounds} rounds, alternating: SET throughput (redis-benchmark -t set -r 2000000 "
              f"-d 300 -c 50, chunks of {chunk}) before and during a BGSAVE, while `cowtrace "
              f"attach PID` observes the server (census {self.cow_mode}, 100 ms interval, "
              f"attribution {' / '.join(self.attach_attribution)}) and while nothing does")
        server = RedisServer(self, self.untraced())
        plain = Mode("not attached")
        observers = [Mode("attached" if len(self.attach_attribution) == 1
                          else f"attached, attribution {a}") for a in self.attach_attribution]
        attribution_of = {m.name: a for m, a in zip(observers, self.attach_attribution)}
        try:
            server.populate(populate)
            pid = int(server.info("server")["process_id"])
            print(f"  used_memory {int(server.info('memory')['used_memory']) / (1 << 20):.0f} MiB")

            def measured(cpu_s):
                # The server's own CPU per SET is steadier than throughput on a shared machine.
                before = proc_cpu_s(pid)
                got = server.bgsave_round(chunk)
                got["server_cpu_s"] = proc_cpu_s(pid) - before
                got["attach_cpu_s"] = cpu_s()
                return got

            def run_one(mode, t):
                if mode is plain:
                    # The same pause as the attach's start takes: a server just done with a
                    # round still has work of its own (rehashing) that a pause lets it finish.
                    time.sleep(0.4)
                    return measured(lambda: 0.0)
                trace = self.trace_path(f"attach-{t}")
                observer = subprocess.Popen([self.cowtrace, "attach", "-q", "-o", trace,
                                             "--attribution", attribution_of[mode.name],
                                             str(pid)], env=clean_env(),
                                            stderr=subprocess.PIPE)
                try:
                    deadline = time.monotonic() + 30
                    while not os.path.exists(trace) or os.path.getsize(trace) == 0:
                        if time.monotonic() > deadline or observer.poll() is not None:
                            raise RuntimeError("cowtrace attach did not start: " +
                                               observer.stderr.read().decode(errors="replace"))
                        time.sleep(0.02)
                    time.sleep(0.3)  # its first samples of the server
                    got = measured(lambda: proc_cpu_s(observer.pid))
                finally:
                    observer.send_signal(signal.SIGINT)
                    observer.wait(timeout=60)
                return got

            got = interleaved(rounds, [plain] + observers, run_one)
        finally:
            server.stop()
        rows, res = [], {}
        for attached in observers:
            for key, words in (("idle_rps", "idle"), ("bgsave_rps", "during BGSAVE")):
                base = [r[key] for r in got[plain.name]]
                with_attach = [r[key] for r in got[attached.name]]
                ratio, per = ratios(with_attach, base)
                # Paired: each attached round against the plain round next to it.
                paired = median(per)
                rows.append([attached.name, words, f"{median(base):,.0f}",
                             f"{median(with_attach):,.0f}", fmt_ratio(ratio), fmt_ratio(paired),
                             fmt_range(per)])
                res.setdefault(attached.name, {})[key] = {"ratio": ratio, "paired": paired,
                                                          "per_round": per}
                self.note(f"redis SET rps {words}, {attached.name}/not attached",
                          f"{ratio:.3f}", "≥ 0.97", ratio >= 0.97)
        table(["observer", "SET/s", "not attached", "attached", "ratio of medians",
               "median of pairs", "range"], rows)
        cpu_base = [r["server_cpu_s"] for r in got[plain.name]]
        for attached in observers:
            cpu_with = [r["server_cpu_s"] for r in got[attached.name]]
            attach_cpu = [r["attach_cpu_s"] for r in got[attached.name]]
            print(f"  {attached.name}: server CPU per round {median(cpu_base):.2f} s not "
                  f"attached, {median(cpu_with):.2f} s attached; the attach's own CPU per round "
                  f"{median(attach_cpu):.3f} s [{min(attach_cpu):.3f}–{max(attach_cpu):.3f}]; "
                  f"BGSAVE {median([r['bgsave_s'] for r in got[plain.name]]):.2f} s / "
                  f"{median([r['bgsave_s'] for r in got[attached.name]]):.2f} s")
        res["runs"] = got
        self.results["attach"] = res

    # --- 8: the collector's ingest rate ------------------------------------------------------

    def bench_ingest(self):
        """Records/s the collector takes: a socket flood, and fork+_exit+waitpid under run."""
        trials = 2 if self.quick else 3
        n = 300_000 if self.quick else 1_000_000
        print(f"(a) record_flood: one client speaking the shim's protocol to `cowtrace record` "
              f"sends {n:,} records as fast as the collector takes them; {trials} trials; "
              f"records/s = records found in the trace / the client's send time; per CPU-s = "
              f"records / the collector's CPU time (utime+stime, all threads) meanwhile")
        # With --cowtrace given more than once, each collector in turn, trial by trial.
        collectors = list(zip(self.lib_names, self.cowtraces))
        if len(set(self.cowtraces)) == 1:
            collectors = collectors[:1]
        rows, res = [], {}
        for mix in ("plain", "fork"):
            runs = {name: [] for name, _ in collectors}
            for t in range(trials):
                for name, cowtrace in collectors:
                    runs[name].append(self._one_flood(cowtrace, mix, n, t))
            for name, _ in collectors:
                key = mix if len(collectors) == 1 else f"{mix} {name}"
                res[key] = runs[name]
                rate = median([r["rate"] for r in runs[name]])
                rows.append([key, f"{median([r['in_trace'] for r in runs[name]]):,.0f}",
                             f"{rate:,.0f}",
                             f"{median([r['per_cpu_s'] for r in runs[name]]):,.0f}",
                             f"{median([r['cpu_share'] for r in runs[name]]) * 100:.0f} %"])
                self.note(f"collector ingest, socket flood ({key} records)",
                          f"{rate / 1e6:.2f} M/s", "≥ 1 M/s", rate >= 1e6)
        table(["records", "in trace", "records/s", "per collector CPU-s", "collector CPU"], rows)
        print("  plain: ExecFailed records only (receive, check, append); fork: Created (6-frame "
              "call site) and WaitReaped alternating, as a process that forks and reaps sends")
        print()

        forks = 1000 if self.quick else 3000
        cmd = [self.program("fork_latency"), "0", str(forks)]
        modes = [self.untraced()] + [self.no_cow_mode()] + self.traced_modes()
        print(f"(b) fork_latency 0 {forks}: {forks} × (fork, child _exit, waitpid) of a small "
              f"process, {trials} trials per mode, alternating; records/s = every record in the "
              f"trace / the collector's wall time")

        def run_one(m, t):
            trace = self.trace_path(f"storm-{t}")
            wall, _, _ = timed_run(m.argv(cmd, trace), m.env)
            count = sum(1 for _ in trace_records(trace)) if m.traced else 0
            return wall, count

        got = interleaved(trials, modes, run_one)
        base = [w for w, _ in got["untraced"]]
        rows2 = []
        for m in modes:
            walls = [w for w, _ in got[m.name]]
            counts = [c for _, c in got[m.name]]
            r, per = ratios(walls, base)
            rate = median([c / w for w, c in got[m.name]]) if m.traced else 0
            res[f"storm {m.name}"] = {"wall_s": median(walls), "records": median(counts),
                                      "records_per_s": rate, "ratio": r}
            first = m.name == "untraced"
            rows2.append([m.name, f"{median(walls):.2f} s",
                          fmt_us(median(walls) / forks * 1e6), "" if first else fmt_ratio(r),
                          "" if first else fmt_range(per),
                          f"{median(counts):,.0f}" if m.traced else "",
                          f"{rate:,.0f}" if m.traced else ""])
        table(["mode", "wall", "per fork", "ratio", "range", "records", "records/s"], rows2)
        self.results["ingest"] = res

    def _one_flood(self, cowtrace, mix, n, t):
        sock = os.path.join(self.tmp, f"flood-{mix}-{t}.sock")
        if os.path.exists(sock):
            os.unlink(sock)
        trace = self.trace_path(f"flood-{mix}-{t}")
        rec = subprocess.Popen([cowtrace, "record", "-q", "-o", trace, "--socket", sock],
                               env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for _ in range(500):
                if os.path.exists(sock):
                    break
                time.sleep(0.01)
            else:
                raise RuntimeError("cowtrace record did not create its socket")
            cpu0 = proc_cpu_s(rec.pid)
            out = subprocess.run([self.program("record_flood"), sock, str(n), mix],
                                 env=clean_env(), check=True, capture_output=True,
                                 text=True).stdout.split()
            seconds = float(out[1])
            # Let the collector finish what is queued: until its CPU time stops moving.
            last = proc_cpu_s(rec.pid)
            while True:
                time.sleep(0.2)
                now = proc_cpu_s(rec.pid)
                if now - last < 0.005:
                    break
                last = now
            cpu = now - cpu0
        finally:
            rec.send_signal(signal.SIGTERM)
            rec.wait(timeout=60)
            rec.stderr.close()
        types = {T_EXEC_FAILED, T_CREATED, T_WAIT_REAPED}
        in_trace = sum(1 for r in trace_records(trace) if r[0] in types)
        return {"sent": n, "in_trace": in_trace, "seconds": seconds,
                "rate": in_trace / seconds, "collector_cpu_s": cpu,
                "per_cpu_s": in_trace / cpu if cpu > 0 else float("nan"),
                "cpu_share": cpu / seconds}

    # --- 9: cowtrace report time and peak memory ---------------------------------------------

    def bench_report(self):
        """cowtrace report (text, json) on synthetic traces of 10,000 and 100,000 processes."""
        runs = 2 if self.quick else 3
        gen = os.path.join(self.build, "tests/e2e/reports/synthetic_trace")
        print(f"synthetic_trace many-processes N (a build-like tree: every process forked, "
              f"exec'd, exited; an episode per fork); `cowtrace report TRACE [--format json]` "
              f"> /dev/null, {runs} runs per format, alternating; median wall time, peak RSS "
              f"(/usr/bin/time's %M, the largest of the runs); `model_memory TRACE`: the heap "
              f"the built model holds a process (malloc's own count, deterministic)")
        rows, res, held = [], {}, []
        for n in (10_000, 100_000):
            trace = self.trace_path(f"synthetic-{n}")
            subprocess.run([gen, "many-processes", trace, trace + ".truth.json", str(n)],
                           check=True, env=clean_env())
            size = os.path.getsize(trace)
            os.unlink(trace + ".truth.json")
            # "N processes B bytes_per_process sizeof ForkEpisode=… Process=… ExecEvent=…"
            out = subprocess.run([self.program("model_memory"), trace], capture_output=True,
                                 text=True, check=True, env=clean_env()).stdout.split()
            per_process = float(out[2])
            held.append([f"{n:,}", f"{per_process:.0f} B"] + [x.split("=")[1] + " B"
                                                               for x in out[5:8]])
            res[f"{n}-model"] = {"bytes_per_process": per_process}
            # Issue 15: "a few hundred bytes" a process.
            self.note(f"model of {n // 1000}k processes: heap a process", f"{per_process:.0f} B",
                      "≤ 400 B", per_process <= 400)
            modes = [Mode("text", [self.cowtrace, "report"]),
                     Mode("json", [self.cowtrace, "report", "--format", "json"])]
            # One run each of the 100k traces under --quick: a JSON report of them takes long.
            n_runs = 1 if self.quick and n >= 100_000 else runs
            got = interleaved(n_runs, modes,
                              lambda m, t: timed_run(m.prefix + [trace], m.env, max_rss=True))
            for m in modes:
                wall = median([w for w, _, _ in got[m.name]])
                rss = max(r for _, r, _ in got[m.name]) / 1024
                res[f"{n}-{m.name}"] = {"wall_s": wall, "max_rss_mib": rss, "trace_bytes": size}
                rows.append([f"{n:,}", f"{size / (1 << 20):.0f} MiB", m.name, f"{wall:.2f} s",
                             f"{rss:.0f} MiB"])
                # Issue 15's targets (issue 11 named the 100k ones).
                limit_s, limit_mib = (0.2, 100) if n == 10_000 else (2, 500)
                self.note(f"report of {n // 1000}k processes ({m.name}): time", f"{wall:.2f} s",
                          f"≤ {limit_s} s", wall <= limit_s)
                self.note(f"report of {n // 1000}k processes ({m.name}): peak RSS",
                          f"{rss:.0f} MiB", f"≤ {limit_mib} MiB", rss <= limit_mib)
        table(["processes", "trace", "format", "wall", "max RSS"], rows)
        table(["processes", "model a process", "ForkEpisode", "Process", "ExecEvent"], held)
        self.results["report"] = res

    # --- 9b: the HTML report at scale (issue 15) -------------------------------------------------

    def bench_report_html(self):
        """cowtrace report --format html on synthetic traces of 10,000 and 100,000 processes:
        page size, time to write it, first render in headless Chromium."""
        runs = 2 if self.quick else 3
        gen = os.path.join(self.build, "tests/e2e/reports/synthetic_trace")
        browser = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")
                        if shutil.which(b)), None)
        print(f"synthetic_trace many-processes N; `cowtrace report TRACE --format html -o PAGE`; "
              f"`{browser or 'chromium'} --headless --dump-dom --virtual-time-budget=60000 PAGE`: "
              f"the wall time of the browser process (its start-up included) and the page's own "
              f"time from navigation to drawn (performance.now(), body[data-render-ms]); "
              f"{runs} runs, medians")
        rows, res = [], {}
        for n, max_mib, max_s in ((10_000, 3, 3), (100_000, 15, 10)):
            trace = self.trace_path(f"synthetic-html-{n}")
            page = trace + ".html"
            subprocess.run([gen, "many-processes", trace, trace + ".truth.json", str(n)],
                           check=True, env=clean_env())
            os.unlink(trace + ".truth.json")
            write = []
            for _ in range(runs):
                t0 = time.monotonic()
                subprocess.run([self.cowtrace, "report", trace, "--format", "html", "-o", page],
                               check=True, env=clean_env())
                write.append(time.monotonic() - t0)
            size = os.path.getsize(page)
            wall, drawn = [], []
            for _ in range(runs if browser else 0):
                profile = tempfile.mkdtemp(prefix="chromium-", dir=self.tmp)
                t0 = time.monotonic()
                out = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                                      "--no-first-run", "--disable-extensions",
                                      "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                                      "--virtual-time-budget=60000", "--dump-dom",
                                      "file://" + os.path.abspath(page)],
                                     capture_output=True, text=True, timeout=300)
                wall.append(time.monotonic() - t0)
                shutil.rmtree(profile, ignore_errors=True)
                m = re.search(r'data-render-ms="(\d+)"', out.stdout)
                ok = 'data-rendered="ok"' in out.stdout
                drawn.append(int(m.group(1)) / 1000 if m and ok else float("nan"))
            res[str(n)] = {"page_bytes": size, "write_s": median(write),
                           "browser_wall_s": median(wall), "page_drawn_s": median(drawn)}
            rows.append([f"{n:,}", f"{size / (1 << 20):.2f} MiB", f"{median(write):.2f} s",
                         f"{median(wall):.2f} s", f"{median(drawn):.2f} s"])
            self.note(f"HTML of {n:,} processes: size", f"{size / (1 << 20):.2f} MiB",
                      f"≤ {max_mib} MB", size <= max_mib * 1_000_000)
            # The page's own time: the browser's start-up, several seconds on a loaded machine,
            # is in the wall time (the table has both, and an empty page's for comparison).
            self.note(f"HTML of {n:,} processes: first render (page drawn)",
                      f"{median(drawn):.2f} s", f"≤ {max_s} s", median(drawn) <= max_s)
            os.unlink(page)
        if browser:
            blank = os.path.join(self.tmp, "blank.html")
            with open(blank, "w") as f:
                f.write("<!DOCTYPE html><title>blank</title><p>blank</p>")
            profile = tempfile.mkdtemp(prefix="chromium-", dir=self.tmp)
            t0 = time.monotonic()
            subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-extensions", "--disable-dev-shm-usage",
                            f"--user-data-dir={profile}", "--virtual-time-budget=60000",
                            "--dump-dom", "file://" + blank], capture_output=True, timeout=300)
            rows.append(["(empty page)", "", "", f"{time.monotonic() - t0:.2f} s", ""])
            shutil.rmtree(profile, ignore_errors=True)
        table(["processes", "page", "write", "browser wall", "page drawn"], rows)
        self.results["report_html"] = res

    # --- 10: the shim without a collector ----------------------------------------------------

    def bench_shim(self):
        """Per-call fork/vfork/posix_spawn cost with the library preloaded, no collector."""
        trials = 5 if self.quick else 9
        calls = {"fork": 300, "vfork": 1000, "spawn": 150} if self.quick else \
            {"fork": 1000, "vfork": 3000, "spawn": 400}
        modes = [Mode("no preload")]
        for i, lib in enumerate(self.libs):
            name = "preloaded" if len(self.libs) == 1 else f"preloaded[{chr(ord('A') + i)}]"
            modes.append(Mode(name, env=clean_env({"LD_PRELOAD": lib})))
        print(f"shim_cost MODE CALLS (after 20 warm-up calls), LD_PRELOAD set, no "
              f"COWTRACE_SOCKET (no collector); {trials} trials per mode, alternating; "
              f"median wall and CPU time per call (CPU: user+system of the process and its "
              f"children)")
        for i, lib in enumerate(self.libs):
            tag = "" if len(self.libs) == 1 else f"{chr(ord('A') + i)}: "
            print(f"  {tag}{lib}")
        rows, res = [], {}
        for what, count in calls.items():
            def run_one(m, t, what=what, count=count):
                out = subprocess.run([self.program("shim_cost"), what, str(count)], env=m.env,
                                     check=True, capture_output=True, text=True).stdout
                return float(out.split()[2]), float(out.split()[3])

            got = interleaved(trials, modes, run_one)
            base = [w for w, _ in got["no preload"]]
            base_cpu = [c for _, c in got["no preload"]]
            for m in modes:
                wall = [w for w, _ in got[m.name]]
                cpu = [c for _, c in got[m.name]]
                r, per = ratios(wall, base)
                rc, per_c = ratios(cpu, base_cpu)
                first = m.name == "no preload"
                res[f"{what} {m.name}"] = {"wall_ns": median(wall), "ratio": r,
                                           "cpu_ns": median(cpu), "cpu_ratio": rc}
                rows.append([what, m.name, f"{median(wall) / 1e3:.1f} µs",
                             "" if first else f"{(median(wall) - median(base)) / 1e3:+.1f} µs",
                             "" if first else fmt_ratio(r), "" if first else fmt_range(per),
                             f"{median(cpu) / 1e3:.1f} µs",
                             "" if first else f"{(median(cpu) - median(base_cpu)) / 1e3:+.1f} µs",
                             "" if first else fmt_ratio(rc), "" if first else fmt_range(per_c)])
            # Two libraries or more: each against the first, trial by trial.
            for m in modes[2:]:
                first_lib = modes[1].name
                r, per = ratios([w for w, _ in got[m.name]], [w for w, _ in got[first_lib]])
                rc, per_c = ratios([c for _, c in got[m.name]], [c for _, c in got[first_lib]])
                res[f"{what} {m.name} vs {first_lib}"] = {"ratio": r, "cpu_ratio": rc}
                rows.append([what, f"{m.name[-2]} vs {first_lib[-2]}", "", "", fmt_ratio(r),
                             fmt_range(per), "", "", fmt_ratio(rc), fmt_range(per_c)])
        table(["call", "mode", "wall/call", "added", "ratio", "range", "CPU/call", "added",
               "ratio", "range"], rows)
        print("size of the library (`size`, Berkeley format):")
        sizes = []
        for lib in self.libs:
            out = subprocess.run(["size", lib], check=True, capture_output=True,
                                 text=True).stdout.splitlines()
            text_, data_, bss = (int(x) for x in out[1].split()[:3])
            sizes.append([lib, f"{text_:,}", f"{data_:,}", f"{bss:,}",
                          f"{os.path.getsize(lib):,}"])
            res[f"size {lib}"] = {"text": text_, "data": data_, "bss": bss,
                                  "file": os.path.getsize(lib)}
        table(["library", "text", "data", "bss", "file bytes"], sizes)
        self.results["shim"] = res


# ---------------------------------------------------------------------------------------------


def proc_cpu_s(pid):
    """utime+stime of a whole process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, suite, mode):
        self.suite = suite
        self.mode = mode
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="redis-", dir=suite.tmp)
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", self.dir, "--daemonize", "no",
               "--logfile", os.path.join(self.dir, "log")]
        self.trace = suite.trace_path(f"redis-{self.port}")
        self.proc = subprocess.Popen(mode.argv(cmd, self.trace), env=mode.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            try:
                if self.command("PING") == "PONG":
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"redis-server ({mode.name}) did not start")

    def command(self, *words):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            msg = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
            s.sendall(msg.encode())
            f = s.makefile("rb")
            line = f.readline().decode().rstrip("\r\n")
            if line.startswith("$"):
                n = int(line[1:])
                return f.read(n + 2)[:n].decode() if n >= 0 else None
            if line.startswith("-"):
                raise RuntimeError(f"redis: {line}")
            return line[1:]

    def info(self, section):
        text = self.command("INFO", section)
        out = {}
        for line in text.splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def bench(self, n, pipeline=1):
        cmd = ["redis-benchmark", "-p", str(self.port), "-t", "set", "-n", str(n),
               "-r", "2000000", "-d", "300", "-c", "50", "-q"]
        if pipeline > 1:
            cmd += ["-P", str(pipeline)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                             env=clean_env()).stdout
        m = re.findall(r"SET: ([0-9.]+) requests per second", out.replace("\r", "\n"))
        if not m:
            raise RuntimeError(f"redis-benchmark said: {out[-300:]}")
        return float(m[-1])

    def populate(self, n):
        self.bench(n, pipeline=16)

    def bgsave_round(self, chunk):
        idle = self.bench(chunk)
        self.command("BGSAVE")
        t0 = time.monotonic()
        state = {"end": None}

        def watch():
            while True:
                if self.info("persistence").get("rdb_bgsave_in_progress") == "0":
                    state["end"] = time.monotonic()
                    return
                time.sleep(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        done, spent = 0, 0.0
        chunks = 0
        while state["end"] is None:
            rps = self.bench(chunk)
            done += chunk
            spent += chunk / rps
            chunks += 1
        watcher.join()
        info = self.info("persistence")
        if info.get("rdb_last_bgsave_status") != "ok":
            raise RuntimeError("BGSAVE failed")
        fork_usec = int(self.info("stats")["latest_fork_usec"])
        return {"idle_rps": idle, "bgsave_rps": done / spent, "chunks": chunks,
                "bgsave_s": state["end"] - t0, "fork_usec": fork_usec}

    def stop(self):
        try:
            self.command("SHUTDOWN", "NOSAVE")
        except (OSError, RuntimeError):
            pass
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


BENCHMARKS = {
    "fork": Suite.bench_fork,
    "shell": Suite.bench_shell,
    "make": Suite.bench_make,
    "census": Suite.bench_census,
    "episode": Suite.bench_episode,
    "redis": Suite.bench_redis,
    "attach": Suite.bench_attach,
    "ingest": Suite.bench_ingest,
    "report": Suite.bench_report,
    "report-html": Suite.bench_report_html,
    "shim": Suite.bench_shim,
    "attribution": Suite.bench_attribution,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="the build directory")
    ap.add_argument("--quick", action="store_true", help="fewer trials and rounds (≤ ~5 min)")
    ap.add_argument("--only", default="", help="comma-separated benchmark names (--list)")
    ap.add_argument("--lib", action="append",
                    help="libcowtrace.so to trace/preload with (repeat to compare libraries)")
    ap.add_argument("--cowtrace", action="append",
                    help="cowtrace executable of the traced modes, paired one to one with "
                         "--lib (repeat with --lib to compare two builds side by side; "
                         "alone, each traces with its own build's library)")
    ap.add_argument("--json", help="also write every figure to this file")
    ap.add_argument("--attach-attribution", default="off",
                    help="attach benchmark: comma-separated --attribution modes to observe with, "
                         "each its own attached rounds (default: off, attach's default)")
    ap.add_argument("--episode-mib", default="2048",
                    help="episode benchmark: comma-separated parent sizes in MiB (default 2048; "
                         "16384 needs about 19 GiB free)")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args()
    if args.list:
        for name, fn in BENCHMARKS.items():
            print(f"{name:8} {fn.__doc__.strip()}")
        return 0
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    for n in names:
        if n not in BENCHMARKS:
            sys.exit(f"run_benchmarks: unknown benchmark {n!r} (known: {', '.join(BENCHMARKS)})")
    suite = Suite(args)
    started = time.monotonic()
    print(f"cowtrace benchmark suite — {time.strftime('%Y-%m-%d %H:%M')}, "
          f"{'quick' if args.quick else 'full'} settings, {os.uname().release}, "
          f"{os.cpu_count()} CPUs, {mem_available_gib():.1f} GiB available, "
          f"load average {load_average()}, census mode {suite.cow_mode}")
    for name, lib, cowtrace in zip(suite.lib_names, suite.libs, suite.cowtraces):
        print(f"  {name}: {cowtrace} with {lib}")
    print()
    try:
        for n in names:
            t0 = time.monotonic()
            print(f"=== {n}: {BENCHMARKS[n].__doc__.strip()}")
            BENCHMARKS[n](suite)
            print(f"    ({time.monotonic() - t0:.0f} s, load average {load_average()})\n")
    finally:
        shutil.rmtree(suite.tmp, ignore_errors=True)
    if suite.summary:
        print("=== summary: figures against the targets of issue 11")
        table(["figure", "value", "target", ""], [list(r) for r in suite.summary])
    print(f"suite took {time.monotonic() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d %H:%M"), "quick": args.quick,
                       "libs": suite.libs, "cowtraces": suite.cowtraces,
                       "results": suite.results,
                       "summary": suite.summary}, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# cowtrace's benchmark suite: builds what it needs, then runs tests/bench/run_benchmarks.py.
#
#   tests/bench/run-benchmarks.sh [--quick] [--only NAME[,NAME...]] [--lib LIB.so]...
#                                 [--cowtrace BIN]... [--build DIR] [--no-build] [--json FILE]
#                                 [--list]
#                                 [--attach-attribution MODE[,MODE...]] [--episode-mib MIB[,MIB...]]
#
#   --quick        fewer trials and rounds: about 5 minutes instead of about 20
#   --only NAMES   run only these benchmarks (--list names them)
#   --lib LIB.so   trace with (and, in the shim benchmark, preload) this libcowtrace.so instead
#                  of the build's; give it twice to compare two libraries side by side
#   --cowtrace BIN the cowtrace executable (collector) to trace with, paired one to one with
#                  --lib: to compare two whole builds side by side,
#                    --lib A/lib/libcowtrace.so --cowtrace A/bin/cowtrace \
#                    --lib B/lib/libcowtrace.so --cowtrace B/bin/cowtrace
#                  (alone, each traces with its own build's lib/libcowtrace.so; what runs once,
#                  not per traced mode — attach, record, reports — uses the first; the ingest
#                  flood runs against each collector in turn)
#   --build DIR    the build tree to use (default: build/ in the repository); configured
#                  RelWithDebInfo if it does not exist yet
#   --no-build     use the build tree as it is
#   --json FILE    also write every figure to FILE
#   --attach-attribution MODES  the attach benchmark observes with each of these --attribution
#                  modes (off, sampled, full) in rounds of its own (default: off, as attach)
#   --episode-mib SIZES  the episode benchmark's parent sizes in MiB (default 2048; 16384 needs
#                  about 19 GiB free)
#
# Run it as root for the exact census mode (the default figures are taken that way). Not part
# of ctest: it times things, on purpose. Figures and how to read them: docs/PERFORMANCE.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build="$repo/build"
do_build=1
args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --no-build) do_build=0; shift ;;
        -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        --list) exec python3 "$here/run_benchmarks.py" --build "$build" --list ;;
        *) args+=("$1"); shift ;;
    esac
done
if [[ $do_build -eq 1 ]]; then
    if [[ ! -f "$build/CMakeCache.txt" ]]; then
        cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
    fi
    cmake --build "$build" -j2 --target cowtrace cowtrace_preload census_bench fork_latency \
        shim_cost record_flood reports_synthetic_trace split_writer snapshot_demo
fi
exec python3 "$here/run_benchmarks.py" --build "$build" "${args[@]}"

#!/usr/bin/env bash
# cowtrace's benchmark suite: builds what it needs, then runs tests/bench/run_benchmarks.py.
#
#   tests/bench/run-benchmarks.sh [--quick] [--only NAME[,NAME...]] [--lib LIB.so]...
#                                 [--build DIR] [--no-build] [--json FILE] [--list]
#
#   --quick        fewer trials and rounds: about 5 minutes instead of about 20
#   --only NAMES   run only these benchmarks (--list names them)
#   --lib LIB.so   trace with (and, in the shim benchmark, preload) this libcowtrace.so instead
#                  of the build's; give it twice to compare two libraries side by side
#   --build DIR    the build tree to use (default: build/ in the repository); configured
#                  RelWithDebInfo if it does not exist yet
#   --no-build     use the build tree as it is
#   --json FILE    also write every figure to FILE
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
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

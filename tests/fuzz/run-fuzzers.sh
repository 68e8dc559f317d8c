#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in their own build tree (the preload shim is not
# needed: only the reader, the model and the renderers), then runs each, one after another, on
# the checked-in seed corpus. A crash, a hang (over 10 s on one input) or an allocation over
# 2 GiB fails the run and leaves the input in <build-dir>/fuzz-artifacts/<target>/.
#
# Usage: tests/fuzz/run-fuzzers.sh [--build-dir DIR] [--seconds N] [--build-only | --no-build]
#                                  [TARGET...]
#   TARGET        record_decoder, trace_report, wire_roundtrip (default: all three)
#   --build-dir   clang build tree (default: build-fuzz in the source tree)
#   --seconds     how long to run each target (default: 30)
# New inputs libFuzzer finds are kept in <build-dir>/fuzz-work/<target>/, so longer runs pick
# up where the last one stopped; the checked-in corpus (tests/fuzz/corpus/) is only read.
set -euo pipefail

src="$(cd "$(dirname "$0")/../.." && pwd)"
build_dir="$src/build-fuzz"
seconds=30
do_build=1
do_run=1
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --build-dir) build_dir="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --build-only) do_run=0; shift ;;
        --no-build) do_build=0; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        -*) echo "run-fuzzers.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(record_decoder trace_report wire_roundtrip)

if [ "$do_build" = 1 ]; then
    command -v clang++ >/dev/null || { echo "run-fuzzers.sh: clang++ not found" >&2; exit 1; }
    # Everything in this tree is instrumented for coverage and checked by ASan+UBSan; the fuzz
    # targets add libFuzzer's main (tests/fuzz/CMakeLists.txt).
    instrument="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    # -O1 and line tables only, as libFuzzer's documentation builds: half the build time of
    # -O2 -g, and the stacks of a finding still name file and line.
    CC=clang CXX=clang++ cmake -S "$src" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
        -DCOWTRACE_FUZZ=ON -DCOWTRACE_BUILD_BENCHMARKS=OFF -DCOWTRACE_WERROR=ON \
        -DCMAKE_C_FLAGS="$instrument" -DCMAKE_CXX_FLAGS="$instrument" >/dev/null
    build_targets=()
    for t in "${targets[@]}"; do build_targets+=(--target "fuzz_$t"); done
    nice -n 10 cmake --build "$build_dir" -j2 "${build_targets[@]}"
fi
[ "$do_run" = 1 ] || exit 0

status=0
for t in "${targets[@]}"; do
    bin="$build_dir/bin/fuzz_$t"
    corpus="$src/tests/fuzz/corpus/$t"
    work="$build_dir/fuzz-work/$t"
    artifacts="$build_dir/fuzz-artifacts/$t"
    log="$build_dir/fuzz-$t.log"
    [ -x "$bin" ] || { echo "run-fuzzers.sh: $bin is not built" >&2; exit 1; }
    mkdir -p "$work" "$artifacts"
    echo "fuzz $t: ${seconds}s on $corpus (log: $log)"
    rc=0
    # The first directory receives new inputs; the checked-in corpus is read only.
    nice -n 10 "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "$corpus" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        echo "fuzz $t: ok, ${execs:-?} executions"
    else
        echo "fuzz $t: FAILED (exit $rc) after ${execs:-?} executions; input in $artifacts/" >&2
        # The error, and the stack frames in cowtrace's own code.
        grep -E "ERROR|SUMMARY|/(lib|tools|tests)/" "$log" | head -25 >&2 || true
        status=1
    fi
done
exit "$status"

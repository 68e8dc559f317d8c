#!/usr/bin/env bash
# Sanitizer runs. Builds two trees and runs, in them:
#   build-asan (-DCOWTRACE_SANITIZE=address: ASan+UBSan)
#       every unit test, then a subset of the end-to-end tests with the sanitized `cowtrace`
#       (collector, model, renderers; the preload shim is built plain on purpose)
#   build-tsan (-DCOWTRACE_SANITIZE=thread)
#       end-to-end tests that run the collector on multi-process commands, with the census
#       sampler thread busy (copy-on-write tests) and without it (tree tests)
# ASan and TSan reports also go to <build>/sanitizer-logs/, UBSan reports abort the process and
# are looked for in the tests' output: a finding fails the run even where a test passes.
#
# Usage: tests/run-sanitizers.sh [--asan-only | --tsan-only] [--ci] [--build-root DIR]
# The e2e subsets are the regular expressions below; --ci takes smaller ones (what
# tests/run-all.sh runs, to keep the whole suite within its time budget). Override them with
# COWTRACE_ASAN_E2E and COWTRACE_TSAN_E2E (ctest -R syntax) to run more.
set -euo pipefail

# Compiler and linker launcher for C (see configure_tree): drops the sanitizer flags.
if [ "${1:-}" = "--plain-c" ]; then
    shift
    args=()
    for a in "$@"; do
        case "$a" in -fsanitize=*|-fno-sanitize-recover=*) ;; *) args+=("$a") ;; esac
    done
    exec "${args[@]}"
fi

src="$(cd "$(dirname "$0")/.." && pwd)"
root="$src"
run_asan=1
run_tsan=1
ci=0
while [ $# -gt 0 ]; do
    case "$1" in
        --asan-only) run_tsan=0; shift ;;
        --tsan-only) run_asan=0; shift ;;
        --ci) ci=1; shift ;;
        --build-root) root="$2"; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "run-sanitizers.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

# One or two scenarios per way of creating a process, the report formats that only need the
# cowtrace binary, and the census on several children. (The full e2e suite under ASan takes
# well over the time budget; run it with COWTRACE_ASAN_E2E='^e2e\.'.)
asan_full='^e2e\.(tree\.(bash_pipeline|dash_vfork|python_subprocess|python_os_system|c_posix_spawn|c_vfork_exec|c_popen|c_signal_deaths|c_child_ends_before_fork_returns|make_j2)\.|reports\.(json|text|folded|perfetto|bad_input)$|cow\.exact\.(several_children|fork_exec)$|collector\.(collector_stalled|foreign_files_refused|diagnostics_go_to_stderr)$)'
# The collector's threads: the census sampler (cow tests) and bursts of processes and
# connections (make -j2, multiprocessing, threads forking).
tsan_full='^e2e\.(tree\.(make_j2|python_multiprocessing_fork|c_threaded_forks)\.|cow\.(exact|unprivileged)\.(several_children|nested)$)'
# --ci: a scenario per kind of creation (fork, vfork, posix_spawn, popen, a parallel make), the
# report formats, the census, a stalled collector; the collector's threads under TSan.
asan_ci='^e2e\.(tree\.(bash_pipeline|dash_vfork|python_subprocess|c_posix_spawn|c_popen|make_j2)\.|reports\.(json|perfetto|bad_input)$|cow\.exact\.several_children$|collector\.(collector_stalled|diagnostics_go_to_stderr)$)'
tsan_ci='^e2e\.(tree\.(make_j2|c_threaded_forks)\.kernel|cow\.exact\.(several_children|nested)$)'
if [ "$ci" = 1 ]; then
    asan_e2e="${COWTRACE_ASAN_E2E:-$asan_ci}"
    tsan_e2e="${COWTRACE_TSAN_E2E:-$tsan_ci}"
else
    asan_e2e="${COWTRACE_ASAN_E2E:-$asan_full}"
    tsan_e2e="${COWTRACE_TSAN_E2E:-$tsan_full}"
fi

start_all=$(date +%s)
status=0

# Configures one sanitizer tree. Unoptimized, line tables only (-O0 -g1): half the build time
# of -O2, which matters in CI, and enough for the reports' file:line. (Not -O1: gcc's
# -Wstringop-overflow and -Wformat-truncation then see things that are not there, and warnings
# are errors.)
# All of cowtrace is C++; the C programs are the test subjects (tests/fixtures, the e2e
# programs). They are built plain, like the shim: a sanitized one would run under strace
# (LeakSanitizer aborts under ptrace), with the plain shim preloaded ahead of its runtime, and
# would be censused with terabytes of shadow mappings. The launcher drops their -fsanitize flags.
configure_tree() {
    local plain_c="$src/tests/run-sanitizers.sh;--plain-c"
    cmake -S "$src" -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O0 -g1 -DNDEBUG" \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O0 -g1 -DNDEBUG" -DCOWTRACE_SANITIZE="$2" \
        -DCMAKE_C_COMPILER_LAUNCHER="$plain_c" -DCMAKE_C_LINKER_LAUNCHER="$plain_c" \
        -DCOWTRACE_BUILD_BENCHMARKS=OFF >/dev/null
}

# Builds only what the selected tests run.
build_targets() {
    local dir="$1"
    shift
    local targets=()
    for t in "$@"; do targets+=(--target "$t"); done
    # The C test programs are small: rebuild them every time, so none is left over from a tree
    # configured before they were built plain.
    find "$dir" -name '*.c.o' -delete
    if ! nice -n 10 cmake --build "$dir" -j2 "${targets[@]}" >"$dir/sanitizer-build.log" 2>&1; then
        grep -E "error|Error" "$dir/sanitizer-build.log" | head -20 >&2
        echo "run-sanitizers.sh: build in $dir failed (log: $dir/sanitizer-build.log)" >&2
        exit 1
    fi
}

# Every unit test program (tests/unit/<area>/ builds <area>_unit_tests).
unit_targets() {
    make -C "$1" help 2>/dev/null | sed -n 's/^\.\.\. //p' | grep -E '_unit_tests$' || true
}

# Targets the e2e tests need (the fixtures are whatever tests/fixtures builds).
e2e_targets() {
    local dir="$1"
    echo cowtrace cowtrace_preload
    make -C "$dir" help 2>/dev/null | sed -n 's/^\.\.\. //p' |
        grep -E '^(child_ends_before_fork_returns|daemonize|empty_env_exec|exec_without_preload|fd_hostile|signal_deaths|spawners|threaded_forks|cow_fixture|reports_synthetic_trace|reports_cow_writer)$' || true
}

# Reports logged by the sanitized programs (all of them cowtrace's code or its tests).
check_logs() {
    local logs="$1" label="$2" found=0
    shopt -s nullglob
    for f in "$logs"/*; do
        echo "=== $label report ($f):" >&2
        head -60 "$f" >&2
        found=1
    done
    shopt -u nullglob
    return "$found"
}

# Reports the tests printed (the stderr of a process they ran): UBSan writes only there.
check_test_logs() {
    local found
    found=$(cat "$1"/Testing/Temporary/LastTest*.log 2>/dev/null |
        grep -E "runtime error:|ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer" |
        sort | uniq -c | sort -rn | head -20) || true
    [ -z "$found" ] && return 0
    echo "=== sanitizer reports in the test output ($1/Testing/Temporary/):" >&2
    echo "$found" >&2
    return 1
}

run_ctest() {
    local dir="$1" regex="$2"
    ctest --test-dir "$dir" -R "$regex" --no-tests=error -j2 --output-on-failure --timeout 600 ||
        return 1
}

if [ "$run_asan" = 1 ]; then
    t0=$(date +%s)
    dir="$root/build-asan"
    logs="$dir/sanitizer-logs"
    configure_tree "$dir" address
    build_targets "$dir" $(unit_targets "$dir") $(e2e_targets "$dir")
    rm -rf "$logs" && mkdir -p "$logs"
    # cowtrace runs COMMAND with the plain shim preloaded: only the C++ test programs and the
    # tools carry the ASan runtime, and they are not preloaded. UBSan reports abort the process
    # (-fno-sanitize-recover) and are found in the test logs (check_test_logs).
    export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    echo "== ASan+UBSan: unit tests"
    run_ctest "$dir" '^unit\.' || status=1
    echo "== ASan+UBSan: end-to-end subset ($asan_e2e)"
    run_ctest "$dir" "$asan_e2e" || status=1
    check_logs "$logs" "ASan/UBSan" || status=1
    check_test_logs "$dir" || status=1
    unset ASAN_OPTIONS UBSAN_OPTIONS
    echo "== ASan+UBSan done in $(( $(date +%s) - t0 ))s"
fi

if [ "$run_tsan" = 1 ]; then
    t0=$(date +%s)
    dir="$root/build-tsan"
    logs="$dir/sanitizer-logs"
    configure_tree "$dir" thread
    build_targets "$dir" $(e2e_targets "$dir")
    rm -rf "$logs" && mkdir -p "$logs"
    export TSAN_OPTIONS="log_path=$logs/tsan:halt_on_error=0:second_deadlock_stack=1"
    echo "== TSan: end-to-end subset ($tsan_e2e)"
    run_ctest "$dir" "$tsan_e2e" || status=1
    check_logs "$logs" "TSan" || status=1
    check_test_logs "$dir" || status=1
    unset TSAN_OPTIONS
    echo "== TSan done in $(( $(date +%s) - t0 ))s"
fi

echo "run-sanitizers.sh: $([ $status = 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start_all ))s"
exit "$status"

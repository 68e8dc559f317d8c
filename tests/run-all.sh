#!/usr/bin/env bash
# Checks the formatting (tests/check-format.sh), builds cowtrace and runs every test: unit,
# end-to-end, fuzz smoke runs; then every unit and end-to-end test again under ASan+UBSan and
# under TSan (tests/run-sanitizers.sh). Installs what is missing on a Debian 12 machine first.
# Each sanitizer tree is built at the lowest priority while the tests before it run (they spend
# most of their time waiting on the programs they trace): the whole run takes the builds' time
# once, not three times.
# Usage: tests/run-all.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
root="$(dirname "$build")"
start=$(date +%s)
.ci/install-deps.sh
tests/check-format.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOWTRACE_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"

background=""
# In a session of its own, so that a failed run stops the whole build, compilers included.
trap '[ -n "$background" ] && kill -- "-$background" 2>/dev/null; true' EXIT
# Builds one sanitizer tree in the background; its output goes to <root>/<which>-build.out.
build_in_background() {
    setsid tests/run-sanitizers.sh "--$1-only" --build-only --build-root "$root" \
        >"$root/$1-build.out" 2>&1 &
    background=$!
}
# Waits for the tree being built; a failed build fails the run with its errors.
wait_for_build() {
    if ! wait "$background"; then
        background=""
        cat "$root/$1-build.out" >&2
        echo "run-all.sh: the $1 tree did not build" >&2
        exit 1
    fi
    background=""
    echo "run-all.sh: $1 tree built in the background"
}

build_in_background asan
ctest --test-dir "$build" --output-on-failure -j2 --timeout 900
echo "run-all.sh: main suite passed in $(( $(date +%s) - start ))s"
wait_for_build asan
build_in_background tsan
status=0
tests/run-sanitizers.sh --asan-only --no-build --build-root "$root" || status=1
wait_for_build tsan
tests/run-sanitizers.sh --tsan-only --no-build --build-root "$root" || status=1
if [ "$status" != 0 ]; then
    echo "run-all.sh: sanitizer runs FAILED after $(( $(date +%s) - start ))s" >&2
    exit 1
fi
echo "run-all.sh: everything passed in $(( $(date +%s) - start ))s"

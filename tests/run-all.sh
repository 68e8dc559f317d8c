#!/usr/bin/env bash
# Checks the formatting (tests/check-format.sh), builds cowtrace and runs every test: unit,
# end-to-end, fuzz smoke runs; then every unit and end-to-end test again under ASan+UBSan and
# under TSan (tests/run-sanitizers.sh). Installs what is missing on a Debian 12 machine first.
# Usage: tests/run-all.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
start=$(date +%s)
.ci/install-deps.sh
tests/check-format.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOWTRACE_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j2 --timeout 900
echo "run-all.sh: main suite passed in $(( $(date +%s) - start ))s"
tests/run-sanitizers.sh --build-root "$(dirname "$build")"
echo "run-all.sh: everything passed in $(( $(date +%s) - start ))s"

#!/usr/bin/env bash
# Builds cowtrace and runs every test: unit, end-to-end, fuzz smoke runs. Installs what is missing
# on a Debian 12 machine first. Usage: tests/run-all.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
.ci/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j2 --timeout 900

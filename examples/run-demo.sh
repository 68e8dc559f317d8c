#!/usr/bin/env bash
# The main demo: builds cowtrace (installing what is missing on Debian 12), runs a Redis-style
# snapshot under it and shows the report. Usage: examples/run-demo.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
.ci/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target cowtrace snapshot_demo
out="$build/demo"
mkdir -p "$out"
"$build/bin/cowtrace" run -o "$out/demo.trace" -- \
    "$build/examples/snapshot_demo" --keys 150000 --value-bytes 1000 \
    --updates-per-second 8000 --save-seconds 3 --output "$out/snapshot.bin"
echo
"$build/bin/cowtrace" report "$out/demo.trace"
if "$build/bin/cowtrace" report --help 2>/dev/null | grep -q html; then
    "$build/bin/cowtrace" report --format html -o "$out/demo.html" "$out/demo.trace"
    echo
    echo "HTML report (open it in a browser, it works offline): $out/demo.html"
fi

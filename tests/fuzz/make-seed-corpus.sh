#!/usr/bin/env bash
# Regenerates the checked-in fuzz seed corpus (tests/fuzz/corpus/): small traces recorded by
# real `cowtrace run` runs of multi-process commands (compressed, as the collector writes them,
# and a plain copy of each), hand-made edge cases plain and compressed (seed_corpus.cpp) and
# record_decoder inputs cut from both. Needs a built tree (default: build).
# Usage: tests/fuzz/make-seed-corpus.sh [build-dir]
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "${1:-$src/build}" && pwd)"
corpus="$src/tests/fuzz/corpus"
cowtrace="$build/bin/cowtrace"
maker="$build/bin/fuzz_seed_corpus"
for f in "$cowtrace" "$maker"; do
    [ -x "$f" ] || { echo "make-seed-corpus.sh: $f is not built" >&2; exit 1; }
done
rm -rf "$corpus"
mkdir -p "$corpus/trace_report" "$corpus/record_decoder" "$corpus/wire_roundtrip"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Small commands that create processes in different ways: fork+exec, vfork (sh), pipelines,
# background jobs, a failing exec, a signal death, posix_spawn and system() from Python.
run() {  # NAME [cowtrace run options] -- COMMAND...
    local name="$1"
    shift
    "$cowtrace" run -q -o "$corpus/trace_report/run-$name" "$@" >/dev/null 2>&1 || true
}
run sh-pipeline -- sh -c 'echo a | cat | wc -l; ls / >/dev/null'
run sh-background -- sh -c 'sleep 0.05 & (true &); wait'
run exec-failure -- sh -c 'exec /nonexistent/binary'
run signal-death -- sh -c 'kill -TERM $$'
run python-spawns -- python3 -c 'import os, subprocess; subprocess.run(["true"]); os.system("true"); os.posix_spawn("/bin/true", ["true"], dict(os.environ)); os.wait(); pid = os.fork()
if pid == 0: os._exit(3)
os.waitpid(pid, 0)'
run no-kernel-events --no-kernel-events -- sh -c 'true | true'

"$maker" "$corpus" "$corpus"/trace_report/run-*
chmod 644 "$corpus"/*/*  # the collector writes traces 0600
echo "seed corpus: $(find "$corpus" -type f | wc -l) files, $(du -sh "$corpus" | cut -f1)"

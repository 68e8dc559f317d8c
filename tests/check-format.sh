#!/usr/bin/env bash
# Fails when a C or C++ file of the project is not formatted as .clang-format says (clang-format
# 14, Debian 12's). Fix with: tests/check-format.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
mode=(--dry-run -Werror)
[ "${1:-}" = "--fix" ] && mode=(-i)
mapfile -t files < <(git ls-files '*.c' '*.h' '*.cpp' '*.hpp' | grep -v '^tests/fuzz/corpus/')
clang-format --style=file "${mode[@]}" "${files[@]}"
echo "check-format.sh: ${#files[@]} files formatted as .clang-format says"

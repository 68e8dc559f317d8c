#!/usr/bin/env bash
# Installs, from Debian 12's archive, everything cowtrace needs to build and to run its tests.
# Only missing packages are installed; run as root or with sudo available.
set -euo pipefail

packages=(
  # build
  build-essential cmake
  libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # which code copied: sampled stacks unwound in the collector (libunwind)
  libunwind-dev
  # the agent's Prometheus metrics (libprometheus-cpp core and pull)
  prometheus-cpp-dev
  # call sites named with function, source file:line and inlined frames (elfutils libdw)
  libdw-dev
  # trace files are zstd streams (libzstd); the benchmarks decompress them with the zstd tool
  libzstd-dev zstd
  # end-to-end tests: real programs and ground truth
  python3 strace dash make procps redis-server redis-tools util-linux
  # `--live` is tested in a real terminal: a tmux pane, read back with capture-pane
  tmux
  # the agent's metrics are scraped by a real Prometheus server and checked with promtool
  prometheus
  # fuzzing and sanitizers; the format check (clang-format 14)
  clang libclang-rt-14-dev clang-format
  # the HTML report is checked in a real browser
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || true
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Installs the Debian 12 packages Sluice needs, only those that are missing.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev liburing-dev libzstd-dev libisal-dev libfmt-dev libspdlog-dev libcli11-dev
  doctest-dev flatbuffers-compiler libflatbuffers-dev
  python3-kafka python3-zstandard
  nlohmann-json3-dev          # sluice CLI: JSON output
  libhowardhinnant-date-dev   # sluice CLI: ISO-8601 times (consume --from-time)
  libplplot-dev               # sluice CLI: perf --plot latency histogram
  plplot-driver-cairo         # sluice CLI: PLplot's headless PNG/SVG drivers
  clang libclang-rt-14-dev    # scripts/fuzz.sh: libFuzzer and the sanitizers
  clang-format                # tests/layout/format_test.sh
  clang-tidy                  # scripts/tidy.sh
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

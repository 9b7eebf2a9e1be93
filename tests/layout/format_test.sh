#!/usr/bin/env bash
# Fails when a tracked C++ file differs from what clang-format (the .clang-format at the top)
# would write; the fix is `clang-format -i FILE`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if ! command -v clang-format >/dev/null; then
  echo "clang-format not found: scripts/install-deps.sh installs it"; exit 1
fi
if git rev-parse --git-dir >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.h' '*.cc')
else
  mapfile -t files < <(find . -path ./build\* -prune -o \( -name '*.h' -o -name '*.cc' \) -print)
fi
if ! out=$(clang-format --dry-run -Werror "${files[@]}" 2>&1); then
  echo "$out" | grep "error:" | cut -d: -f1 | sort -u | sed 's/^/not clang-formatted: /'
  exit 1
fi
echo "${#files[@]} files clang-formatted"

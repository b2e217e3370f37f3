#!/usr/bin/env bash
# test.sh — set up, build and run the whole test suite: the release build, then the
# same tests under ASan + UBSan, then the threaded engine tests under TSan, then a short
# libFuzzer run of every fuzz target (clang, ASan + UBSan). Prints ctest's summary for each.
#
#   bash scripts/test.sh              # release + asan + tsan + fuzz
#   OBR_TEST_PRESETS=release bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
presets="${OBR_TEST_PRESETS:-release asan tsan fuzz}"
status=0
for preset in $presets; do
  bash scripts/setup.sh "$preset"   # installs only what this preset still lacks
  echo "== ctest ($preset)"
  ctest --preset "$preset" -j 2 || status=1
done
exit $status

#!/usr/bin/env bash
# test.sh — set up, build and run the whole test suite: the release build, then the
# same tests under ASan + UBSan, then the threaded engine tests under TSan. Prints
# ctest's summary for each.
#
#   bash scripts/test.sh              # release + asan + tsan
#   OBR_TEST_PRESETS=release bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
presets="${OBR_TEST_PRESETS:-release asan tsan}"
status=0
first=1
for preset in $presets; do
  if [ $first -eq 1 ]; then
    bash scripts/setup.sh "$preset"
    first=0
  else
    OBR_SKIP_INSTALL=1 bash scripts/setup.sh "$preset"
  fi
  echo "== ctest ($preset)"
  ctest --preset "$preset" -j 2 || status=1
done
exit $status

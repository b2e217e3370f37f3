#!/usr/bin/env bash
# run.sh — runs one fuzz target over its seeds and kept regressions.
#
#   run.sh replay BINARY SEEDS_DIR REGRESSIONS_DIR WORK_DIR [SECONDS]
#       every input once through a standalone (GCC) build; fails if any input breaks an
#       invariant or crashes.
#   run.sh fuzz BINARY SEEDS_DIR REGRESSIONS_DIR WORK_DIR SECONDS
#       libFuzzer for SECONDS, starting from the seeds and regressions, growing a corpus in
#       WORK_DIR/corpus; a crash input is written to WORK_DIR/artifacts/ and the run fails
#       (copy it into tests/fuzz/regressions/<target>/ once fixed).
set -euo pipefail
mode="$1" bin="$2" seeds="$3" regressions="$4" work="$5" seconds="${6:-20}"
inputs=("$seeds")
[ -d "$regressions" ] && inputs+=("$regressions")
case "$mode" in
  replay)
    exec "$bin" "${inputs[@]}"
    ;;
  fuzz)
    mkdir -p "$work/corpus" "$work/artifacts"
    # -max_len: frames beyond 64 KiB only test the size limit, which small inputs reach too.
    # A fixed seed keeps CI's short run repeatable (set OBR_FUZZ_SEED for other paths).
    exec "$bin" -seed="${OBR_FUZZ_SEED:-1}" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "${inputs[@]}"
    ;;
  *)
    echo "run.sh: unknown mode '$mode' (replay or fuzz)" >&2
    exit 2
    ;;
esac

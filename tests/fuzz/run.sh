#!/usr/bin/env bash
# run.sh — runs one fuzz target over its seeds and kept regressions.
#
#   run.sh replay BINARY SEEDS_DIR REGRESSIONS_DIR WORK_DIR [SECONDS]
#       every input once through a standalone (GCC) build; fails if any input breaks an
#       invariant or crashes.
#   run.sh fuzz BINARY SEEDS_DIR REGRESSIONS_DIR WORK_DIR SECONDS
#       libFuzzer for SECONDS, starting from the seeds and regressions, growing a corpus in
#       WORK_DIR/corpus; a crash input is written to WORK_DIR/artifacts/ and the run fails
#       (copy it into tests/fuzz/regressions/<target>/ once fixed). A failed run ends with
#       the error line and the input (base64 when at most 4 KiB), so a CI log that shows
#       only its end is enough to reproduce it.
set -euo pipefail
mode="$1" bin="$2" seeds="$3" regressions="$4" work="$5" seconds="${6:-20}"
inputs=("$seeds")
[ -d "$regressions" ] && inputs+=("$regressions")
case "$mode" in
  replay)
    exec "$bin" "${inputs[@]}"
    ;;
  fuzz)
    rm -rf "$work/artifacts"  # what is there was reported by an earlier run
    mkdir -p "$work/corpus" "$work/artifacts"
    # -max_len: frames beyond 64 KiB only test the size limit, which small inputs reach too.
    # A fixed seed keeps CI's short run repeatable (set OBR_FUZZ_SEED for other paths).
    rc=0
    "$bin" -seed="${OBR_FUZZ_SEED:-1}" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "${inputs[@]}" 2>&1 | tee "$work/log" || rc=$?
    if [ "$rc" -ne 0 ]; then
      # The last lines say what failed and keep the input, even where only part of the log
      # is shown: the sanitizer's own line, then each input written, with its bytes (base64,
      # when small enough to copy from a log).
      echo "run.sh: $(basename "$bin") failed (exit $rc); the error:"
      grep -m 3 -E 'runtime error|ERROR: [A-Za-z]+Sanitizer|ERROR: libFuzzer|invariant' "$work/log" || true
      for a in "$work"/artifacts/*; do
        [ -f "$a" ] || continue
        echo "run.sh: input $a ($(wc -c < "$a") bytes)"
        if [ "$(wc -c < "$a")" -le 4096 ]; then echo "run.sh: base64 $(base64 -w 0 "$a")"; fi
      done
    fi
    exit "$rc"
    ;;
  *)
    echo "run.sh: unknown mode '$mode' (replay or fuzz)" >&2
    exit 2
    ;;
esac

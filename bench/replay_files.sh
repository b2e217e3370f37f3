#!/usr/bin/env bash
# replay_files.sh — `obr replay --json` on each FILE with each obr binary, ROUNDS rounds
# (every binary and file in turn within a round, so that a noisy host slows them alike),
# pinned to one core; prints the median elapsed_s and frames/s of each pair, with the
# range over the rounds. bench/README.md, "Reading compressed recordings", used it.
#
#   bash bench/replay_files.sh [-r ROUNDS] [-c CPU] [-b OBR]... FILE...
#   bash bench/replay_files.sh -r 11 /tmp/s200k.ndjson /tmp/s200k.ndjson.gz
set -euo pipefail
rounds=11 cpu=1 bins=()
while getopts r:c:b: o; do
  case $o in r) rounds=$OPTARG ;; c) cpu=$OPTARG ;; b) bins+=("$OPTARG") ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: replay_files.sh [-r ROUNDS] [-c CPU] [-b OBR]... FILE..." >&2; exit 2; }
[ ${#bins[@]} -gt 0 ] || bins=(./build/release/tools/obr)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((i = 0; i < rounds; i++)); do
  for b in "${bins[@]}"; do
    for f in "$@"; do
      json=$(taskset -c "$cpu" "$b" replay --json "$f" 2>/dev/null || true)
      frames=$(grep -o '"frames":[0-9]*' <<<"$json" | head -1 | cut -d: -f2 || true)
      secs=$(grep -o '"elapsed_s":[0-9.e-]*' <<<"$json" | head -1 | cut -d: -f2 || true)
      [ -n "$secs" ] && echo "$b $f $frames $secs" >>"$out"  # a file this obr cannot read: no row
    done
  done
done
python3 - "$out" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print(f"{'obr':28} {'file':30} {'frames':>7} {'median s':>9} {'range s':>15} {'frames/s':>9}")
for key in dict.fromkeys((r[0], r[1]) for r in rows):
    t = sorted(float(r[3]) for r in rows if (r[0], r[1]) == key)
    n = int(next(r[2] for r in rows if (r[0], r[1]) == key))
    m = statistics.median(t)
    print(f"{key[0][-28:]:28} {key[1][-30:]:30} {n:7d} {m:9.4f} {t[0]:7.4f}-{t[-1]:.4f} {n / m / 1e6:7.2f} M")
PY

#!/usr/bin/env bash
# `obr record --rotate-mb --rotate-every` against `obr serve` on loopback (TLS): the run is
# written in parts; `obr replay` of every part (given last first) gives every book the
# updates and checks the live run reported; each part replayed alone reads to its end
# (exit 0 or 3, never 2), a later part saying that its books start empty; a missing
# middle part is refused (exit 2), naming it.
#   record_rotate.sh OBR_BINARY WORK_DIR
set -euo pipefail
obr="$1"
work="$2"
rm -rf "$work" && mkdir -p "$work"
. "$(dirname "$0")/simulator.sh"
start_simulator "$obr" "$work" 25 --fault corrupt_checksum@t=2s,symbol=BTC/USD
cat >"$work/config.json" <<JSON
{"kraken": {"symbols": ["BTC/USD", "ETH/USD"], "endpoints": ["$url"]},
 "kucoin": {"symbols": ["BTC-USDT"], "rest_base": "$rest"},
 "tls": {"ca_file": "$work/cert.pem"}}
JSON
"$obr" record --help | grep -q -- "--rotate-every DURATION" || { echo "--rotate-every not in obr record --help"; exit 1; }
# A bad duration is refused by name (exit 2).
rc=0
"$obr" record --config "$work/config.json" --out "$work/x.obr.gz" --rotate-every 5 2>"$work/bad.err" || rc=$?
[ "$rc" = 2 ] && grep -q "rotate-every needs a duration" "$work/bad.err" || { echo "--rotate-every 5: exit $rc"; exit 1; }
# record exits 1: the injected checksum fault fails a check.
rc=0
"$obr" record --config "$work/config.json" --out "$work/run.obr.gz" --seconds 5 --rotate-mb 0.012 \
  --rotate-every 2s >"$work/record.out" 2>"$work/record.err" || rc=$?
cat "$work/record.out"
[ "$rc" = 1 ] || { echo "obr record exited $rc, expected 1 (a check failed)"; cat "$work/record.err"; exit 1; }
parts=$(grep -c '^obr record: part ' "$work/record.out")
[ "$parts" -ge 4 ] || { echo "expected at least 4 parts, got $parts"; exit 1; }
[ -f "$work/run.000001.obr.gz" ] && [ ! -e "$work/run.obr.gz" ] || { echo "parts not named run.NNNNNN.obr.gz"; exit 1; }
status=0
# Every part, last first: one run.
mapfile -t files < <(ls -r "$work"/run.0*.obr.gz)
"$obr" replay "${files[@]}" >"$work/replay.out" || [ $? -eq 1 ]
while read -r venue symbol state _ updates _ _ passed _ failed; do
  [ "$venue" = "obr" ] && continue
  line=$(grep -A1 "^$venue $symbol " "$work/replay.out" | tail -1)
  want="updates $updates  checks passed $passed  failed $failed"
  if [[ "$line" != *"$want"* ]]; then
    echo "MISMATCH $venue $symbol: live '$want', replay '$line'"
    status=1
  else
    echo "same: $venue $symbol $want"
  fi
done <"$work/record.out"
[ "$(grep -c '^  ' "$work/record.out")" = 3 ] || { echo "expected 3 books in the record summary"; status=1; }
grep -q "failed 1" "$work/record.out" || { echo "the injected fault was not seen"; status=1; }
# Each part alone: read to its end (exit 0, 1 or 3; never 2, an input error).
for f in "${files[@]}"; do
  rc=0
  "$obr" replay "$f" >/dev/null 2>"$work/alone.err" || rc=$?
  if [ "$rc" = 2 ] || grep -q "ends early\|read error" "$work/alone.err"; then
    echo "part $f alone: exit $rc: $(cat "$work/alone.err")"
    status=1
  fi
  # A later part alone says its books start empty (no state is carried across parts).
  if [[ "$f" != *run.000001.obr.gz ]] && ! grep -q "is a later part of a rotated recording" "$work/alone.err"; then
    echo "part $f alone does not say it is a later part: $(cat "$work/alone.err")"
    status=1
  fi
done
# A missing middle part: exit 2, naming it.
rc=0
"$obr" replay "$work/run.000001.obr.gz" "$work/run.000003.obr.gz" >/dev/null 2>"$work/gap.err" || rc=$?
if [ "$rc" != 2 ] || ! grep -q "part 2 is missing ($work/run.000002.obr.gz)" "$work/gap.err"; then
  echo "missing part 2: exit $rc: $(cat "$work/gap.err")"
  status=1
fi
exit $status

#!/usr/bin/env bash
# `obr record` against `obr serve` on loopback (TLS), then `obr replay` of the recording:
# every book's updates and checks in the replay equal what the live run reported.
#   record_replay.sh OBR_BINARY WORK_DIR
set -euo pipefail
obr="$1"
work="$2"
rm -rf "$work" && mkdir -p "$work"
. "$(dirname "$0")/simulator.sh"
start_simulator "$obr" "$work" 25 --fault corrupt_checksum@t=2s,symbol=BTC/USD --fault skip_sequence@t=2.5s,symbol=BTC-USDT
cat >"$work/config.json" <<JSON
{"kraken": {"symbols": ["BTC/USD", "ETH/USD"], "endpoints": ["$url"]},
 "kucoin": {"symbols": ["BTC-USDT"], "rest_base": "$rest"},
 "tls": {"ca_file": "$work/cert.pem"}}
JSON
# record exits 1 when a check failed while recording (the injected faults make sure of it).
rc=0
"$obr" record --config "$work/config.json" --out "$work/run.obr.gz" --seconds 5 >"$work/record.out" 2>"$work/record.err" || rc=$?
cat "$work/record.out"
[ "$rc" = 1 ] || { echo "obr record exited $rc, expected 1 (a check failed)"; cat "$work/record.err"; exit 1; }
grep -q "^obr record: exit 1: " "$work/record.err" || { echo "obr record did not say why it exits 1"; exit 1; }
# replay exits 1 when a book saw a failed check (the injected faults make sure of that).
"$obr" replay "$work/run.obr.gz" >"$work/replay.out" || [ $? -eq 1 ]
status=0
while read -r venue symbol state _ updates _ _ passed _ failed; do
  [ "$venue" = "obr" ] && continue
  # The replay's block for this book: "VENUE SYMBOL depth ..." then "snapshots N updates N checks passed N failed N ...".
  line=$(grep -A1 "^$venue $symbol " "$work/replay.out" | tail -1)
  want="updates $updates  checks passed $passed  failed $failed"
  if [[ "$line" != *"$want"* ]]; then
    echo "MISMATCH $venue $symbol: live '$want', replay '$line'"
    status=1
  else
    echo "same: $venue $symbol $want"
  fi
  [ "$updates" -gt 100 ] || { echo "too few updates for $venue $symbol: $updates"; status=1; }
done <"$work/record.out"
[ "$(grep -c '^  ' "$work/record.out")" = 3 ] || { echo "expected 3 books in the record summary"; status=1; }
grep -q "failed 1" "$work/record.out" || { echo "the injected faults were not seen"; status=1; }
# The summary shows each book as it was before shutdown, not as the shutdown left it
# (stale): here live, or resyncing if a fault had just hit it.
if grep -q '^  [a-z]* *[^ ]* *stale ' "$work/record.out"; then echo "a book shows the shutdown's stale state"; status=1; fi
[ "$(grep -c '^  [a-z]* *[^ ]* *live ' "$work/record.out")" -ge 1 ] || { echo "no book live before shutdown"; status=1; }
exit $status

#!/usr/bin/env bash
# The edges a user meets first, each checked for its exit status and its one-line reason:
# interrupts (replay, synth, demo, soak), inputs cut short or holding bytes their format
# does not allow, and live-command settings refused before connecting.
#   edges.sh OBR_BINARY WORK_DIR SOURCE_DIR
set -uo pipefail
obr="$1"
work="$2"
src="$3"
rm -rf "$work" && mkdir -p "$work"
status=0
. "$(dirname "$0")/check.sh"
# wait_for_handler PID: until the process catches SIGINT (bit 2 of SigCgt), at most 20 s.
# A background job of a script starts with SIGINT ignored, so a signal sent before obr
# installed its handler would be lost (a slow start under a sanitizer).
wait_for_handler() {
  for _ in $(seq 200); do
    local mask
    mask=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 0
    [ -n "$mask" ] && (( 16#$mask & 2 )) && return 0
    sleep 0.1
  done
}
# interrupt SECONDS SIGNAL OUT ERR COMMAND...: runs COMMAND in the background, its stdout
# to OUT and its stderr to ERR (both to OUT, in order, when ERR is OUT), sends it SIGNAL
# SECONDS after it has installed its SIGINT handler, and sets rc to its exit status.
interrupt() {
  local seconds="$1" signal="$2" out="$3" err="$4" pid
  shift 4
  if [ "$err" = "$out" ]; then "$@" >"$out" 2>&1 & else "$@" >"$out" 2>"$err" & fi
  pid=$!
  wait_for_handler $pid
  sleep "$seconds"
  kill -"$signal" $pid
  wait $pid
  rc=$?
}

# 1. obr replay interrupted: the summary so far, marked interrupted, exit 130.
"$obr" synth --out "$work/big.ndjson" --frames 1000000 >/dev/null
interrupt 0.2 INT "$work/replay_int.json" "$work/replay_int.err" \
  "$obr" replay --json "$work/big.ndjson" "$work/big.ndjson" "$work/big.ndjson" "$work/big.ndjson" \
  "$work/big.ndjson" "$work/big.ndjson" "$work/big.ndjson" "$work/big.ndjson"
check "replay interrupted exits 130 (got $rc)" [ "$rc" = 130 ]
check "replay interrupted prints its summary marked interrupted" has '"interrupted":true' "$work/replay_int.json"
check "replay interrupted says why on stderr" has "obr replay: exit 130: interrupted" "$work/replay_int.err"

# 2. obr synth interrupted: a finished, valid file (fewer updates), no .partial left.
interrupt 0.3 TERM "$work/synth.out" "$work/synth.out" "$obr" synth --out "$work/cut.ndjson.gz" --frames 100000000
check "synth interrupted exits 130 (got $rc)" [ "$rc" = 130 ]
check "synth interrupted says the file is complete" has "INTERRUPTED: the file is complete and valid" "$work/synth.out"
check "synth interrupted leaves no .partial file" [ ! -e "$work/cut.ndjson.gz.partial" ]
"$obr" replay "$work/cut.ndjson.gz" >"$work/cut_replay.out" 2>&1
rc=$?
check "the interrupted synth file replays with exit 0 (got $rc)" [ "$rc" = 0 ]

# 3. A gzip cut short: the books up to the cut and the summary, the cut named, exit 2.
gzip -c "$src/tests/data/kraken-v2/btcusd_d25.ndjson" >"$work/whole.ndjson.gz"
size=$(stat -c %s "$work/whole.ndjson.gz")
head -c $((size * 6 / 10)) "$work/whole.ndjson.gz" >"$work/cut.ndjson.gz"
"$obr" replay --json "$work/cut.ndjson.gz" >"$work/cut.json" 2>"$work/cut.err"
rc=$?
check "a cut gzip exits 2 (got $rc)" [ "$rc" = 2 ]
check "a cut gzip still reports the book up to the cut" has '"symbol":"BTC/USD","state":"live"' "$work/cut.json"
check "a cut gzip is named with its line in the JSON" has '"input_errors":\[".*cut.ndjson.gz:[0-9]*: gzip stream ends early' "$work/cut.json"
check "a cut gzip is named on stderr" has "obr replay: exit 2: .*cut.ndjson.gz:[0-9]*: gzip stream ends early" "$work/cut.err"

# 4. A NUL byte on line 6: reported at line 6, line 7 and later keep their numbers.
{
  head -n 5 "$src/tests/data/kraken-v2/btcusd_d25.ndjson"
  printf 'abc\0def\n'
  sed -n '6,$p' "$src/tests/data/kraken-v2/btcusd_d25.ndjson"
  printf '{"channel":"book","type":"update"\n'
} >"$work/nul.ndjson"
lines=$(wc -l <"$work/nul.ndjson")
"$obr" replay --json "$work/nul.ndjson" >"$work/nul.json" 2>"$work/nul.err"
rc=$?
check "a NUL byte is a malformed line: exit 1 (got $rc)" [ "$rc" = 1 ]
check "the NUL byte is reported at line 6" has "nul.ndjson:6: NUL byte at column 4" "$work/nul.json"
check "the last line keeps its number ($lines)" has "nul.ndjson:$lines: " "$work/nul.json"

# 5. obr demo and obr soak interrupted: the summary so far, marked interrupted, exit 130.
interrupt 4 INT "$work/demo.json" "$work/demo.err" "$obr" demo --seconds 60 --json --no-faults
check "demo interrupted exits 130 (got $rc)" [ "$rc" = 130 ]
check "demo interrupted prints its summary marked interrupted" has '"interrupted":true}' "$work/demo.json"
interrupt 4 TERM "$work/soak.json" "$work/soak.err" "$obr" soak --seconds 60 --symbols 2 --json
check "soak interrupted exits 130 (got $rc)" [ "$rc" = 130 ]
check "soak interrupted prints its summary marked interrupted" has '"interrupted":true}' "$work/soak.json"
check "soak's peak memory is not below its final memory" python3 -c "
import json, sys
s = json.load(open('$work/soak.json'))
sys.exit(0 if s['peak_rss_kb'] >= s['rss_kb_end'] else 1)"

# 6. Refused before connecting: an http_listen that cannot bind (exit 2, naming the key
#    and value); with :0 the bound port is printed. Nothing validates in one second with no
#    venue reachable: exit 3, saying so.
cat >"$work/bind.json" <<JSON
{"kraken": {"symbols": ["BTC/USD"], "endpoints": ["ws://127.0.0.1:9/v2"]}, "http_listen": "10.255.255.1:9100"}
JSON
"$obr" record --config "$work/bind.json" --out "$work/bind.obr.gz" --seconds 1 >"$work/bind.out" 2>"$work/bind.err"
rc=$?
check "record with an http_listen that cannot bind exits 2 (got $rc)" [ "$rc" = 2 ]
check "... naming the key and value" has "obr record: http_listen '10.255.255.1:9100': " "$work/bind.err"
cat >"$work/port0.json" <<JSON
{"kraken": {"symbols": ["BTC/USD"], "endpoints": ["ws://127.0.0.1:9/v2"]}, "http_listen": "127.0.0.1:0"}
JSON
"$obr" record --config "$work/port0.json" --out "$work/port0.obr.gz" --seconds 1 >"$work/port0.out" 2>"$work/port0.err"
rc=$?
check "record that validated nothing exits 3 (got $rc)" [ "$rc" = 3 ]
check "... saying why" has "obr record: exit 3: nothing was validated" "$work/port0.err"
check "record prints the bound /metrics port when :0 was asked" has "obr record: /health and /metrics on http://127.0.0.1:[1-9][0-9]*$" "$work/port0.err"
check "record lists the book with its state" has "kraken  BTC/USD    stale" "$work/port0.out"
if [ $status != 0 ]; then
  for f in "$work"/*.err; do echo "== $f"; tail -5 "$f"; done
fi
exit $status

#!/usr/bin/env bash
# `obr run` against `obr serve` on loopback (TLS): a run of --seconds 3 exits 0 with its
# summary; a run stopped by SIGTERM exits 0 (docs/operations.md "Signals and exit
# statuses"), prints its summary, and leaves a recording `obr replay` reads without error;
# /health and /metrics are served, the dead man's switch's counters among the metrics.
#   run_service.sh OBR_BINARY WORK_DIR
set -uo pipefail
obr="$1"
work="$2"
rm -rf "$work" && mkdir -p "$work"
status=0
. "$(dirname "$0")/check.sh"

. "$(dirname "$0")/simulator.sh"
start_simulator "$obr" "$work" 60
# The switch's monitor: the simulator's own HTTPS port, which answers /ping with 404, so
# every request counts as failed (and the run goes on).
cat >"$work/config.json" <<JSON
// obr run against the simulator
{"kraken": {"symbols": ["BTC/USD", "ETH/USD"], "endpoints": ["$url"]},
 "kucoin": {"symbols": ["BTC-USDT"], "rest_base": "$rest"},
 "tls": {"ca_file": "$work/cert.pem"},
 "http_listen": "127.0.0.1:0",
 "record": {"path": "$work/run.obr.gz"},
 "deadman": {"url": "$rest/ping", "interval_ms": 300}}
JSON

# 1. --seconds 3: exit 0, the summary on stdout, every book validated.
"$obr" run --config "$work/config.json" --seconds 3 >"$work/seconds.out" 2>"$work/seconds.err"
rc=$?
cat "$work/seconds.out"
check "run --seconds 3 exits 0 (got $rc)" [ "$rc" = 0 ]
check "its summary names the books and the switch" \
  grep -Eq '^obr run: stopped by --seconds after 3\.[0-9] s: 3 books \(3 live before stop, 3 validated\), [1-9][0-9]* frames, 0 malformed, 0 reconnects, [0-9]+ state changes, 0 errors; deadman [1-9][0-9]* sent, 0 ok, [1-9][0-9]* failed, [0-9]+ skipped; recorded to .*/run\.obr\.gz$' \
  "$work/seconds.out"
check "it logs the bound /health and /metrics port with a time" \
  grep -Eq '^20[0-9-]+T[0-9:.]+Z obr run: /health and /metrics on http://127\.0\.0\.1:[1-9][0-9]*$' "$work/seconds.err"
check "it logs each failed request, naming the URL and the status" has "deadman: GET $rest/ping failed: HTTP 404" "$work/seconds.err"
check "it logs state changes" grep -Eq 'obr run: \[kraken BTC/USD\] awaiting_snapshot -> live \(snapshot_valid\)$' "$work/seconds.err"

# 2. SIGTERM: exit 0 after a clean stop, the summary, a recording that replays.
"$obr" run --config "$work/config.json" --json >"$work/term.out" 2>"$work/term.err" &
pid=$!
for _ in $(seq 200); do has "deadman: sending" "$work/term.err" && break; sleep 0.1; done
check "the switch started sending once every book was live" has "deadman: sending: every covered book is live (3)" "$work/term.err"
port=$(sed -n 's|.*/health and /metrics on http://127.0.0.1:\([0-9]*\)$|\1|p' "$work/term.err")
if [ -n "$port" ] && command -v curl >/dev/null; then
  sleep 1
  curl -s "http://127.0.0.1:$port/metrics" >"$work/metrics.txt"
  curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" >"$work/health.code"
  check "/metrics has the switch's counters" grep -Eq '^obr_deadman_requests_total\{result="failed"\} [1-9]' "$work/metrics.txt"
  check "/health says 200 with every book live" [ "$(cat "$work/health.code")" = 200 ]
fi
kill -TERM $pid
wait $pid
rc=$?
cat "$work/term.out"
check "SIGTERM exits 0 (got $rc)" [ "$rc" = 0 ]
check "the SIGTERM summary says so" \
  grep -Eq '^\{"stopped_by":"signal","seconds":[0-9.]+,"books":3,"live_before_stop":3,"validated":3,"frames":[1-9][0-9]*,"malformed":0,"reconnects":0,"state_changes":[0-9]+,"errors":0,"deadman":\{"sent":[1-9][0-9]*,"ok":0,"failed":[0-9]+,"skipped":[0-9]+\},"bus":null,"recording":".*/run\.obr\.gz","book_counters":\[.*\],"recording_files":\[".*/run\.obr\.gz"\],"exit":0\}$' \
  "$work/term.out"
check "it logs the stop" has "obr run: stopping: signal received" "$work/term.err"
check "and the clean end" has "obr run: stopped cleanly" "$work/term.err"
"$obr" replay "$work/run.obr.gz" >"$work/replay.out" 2>"$work/replay.err"
rc=$?
check "the recording replays with exit 0 (got $rc)" [ "$rc" = 0 ]
check "the replay holds the three books" [ "$(grep -Ec '^(kraken (BTC|ETH)/USD|kucoin BTC-USDT) ' "$work/replay.out")" = 3 ]
[ "$status" = 0 ] || { echo "--- stderr of the SIGTERM run:"; cat "$work/term.err"; }
exit $status

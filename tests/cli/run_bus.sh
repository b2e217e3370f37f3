#!/usr/bin/env bash
# `obr run` with a bus section and `obr replica` on the command line (docs/bus.md,
# docs/operations.md "Fan-out over NATS"): a nats-server (JetStream) and the simulator on
# loopback, one engine (started before the server: it waits) publishing three books over
# 4 shards; `obr replica` for the three
# named books, then for --all, sees each one live (exit 0); the engine's /metrics carries
# the bus's counters; SIGTERM stops the engine cleanly, and a replica started after it sees
# no live book (exit 1).
#   run_bus.sh OBR_BINARY WORK_DIR
set -uo pipefail
obr="$1"
work="$2"
rm -rf "$work" && mkdir -p "$work"
status=0
. "$(dirname "$0")/check.sh"
command -v nats-server >/dev/null || { echo "nats-server is not on PATH (scripts/setup.sh installs it)"; exit 1; }

. "$(dirname "$0")/simulator.sh"
start_simulator "$obr" "$work" 60
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nurl="nats://127.0.0.1:$port"
cat >"$work/config.json" <<JSON
{"kraken": {"symbols": ["BTC/USD", "ETH/USD"], "endpoints": ["$url"]},
 "kucoin": {"symbols": ["BTC-USDT"], "rest_base": "$rest"},
 "tls": {"ca_file": "$work/cert.pem"},
 "http_listen": "127.0.0.1:0",
 "bus": {"nats": ["$nurl"], "engine_id": "e1", "shards": 4, "lease_ttl_ms": 2000}}
JSON
# The engine starts before its NATS server (a service's start order is not guaranteed): it
# says it waits, and goes on when the server comes.
"$obr" run --config "$work/config.json" --json >"$work/run.out" 2>"$work/run.err" &
engine=$!
trap 'kill $server $engine 2>/dev/null || true' EXIT
for _ in $(seq 100); do has "waiting for the NATS server" "$work/run.err" && break; sleep 0.1; done
check "the engine waits for its NATS server" has "obr run: bus: waiting for the NATS server at $nurl" "$work/run.err"
nats-server -js -a 127.0.0.1 -p "$port" -sd "$work/nats" >"$work/nats.log" 2>&1 &
nats=$!
trap 'kill $server $nats $engine 2>/dev/null || true' EXIT
for _ in $(seq 150); do has "obr run: started" "$work/run.err" && break; sleep 0.1; done
check "the engine logs its bus" grep -Eq "obr run: bus: engine e1 on $nurl, 4 shards, lease TTL 2000 ms" "$work/run.err"

# 1. Three named books: each live on the replica (it waits for their snapshots).
"$obr" replica --nats "$nurl" --json --seconds 4 kraken:BTC/USD kraken:ETH/USD kucoin:BTC-USDT \
  >"$work/replica.json" 2>"$work/replica.err"
rc=$?
check "obr replica exits 0 with every book live (got $rc)" [ "$rc" = 0 ]
python3 - "$work/replica.json" <<'PY' || status=1
import json, sys
d = json.load(open(sys.argv[1]))
print(json.dumps({k: d[k] for k in ("books", "books_live", "messages", "malformed", "resyncs", "gaps")}))
bad = []
if (d["books"], d["books_live"], d["malformed"], d["stale_epoch"]) != (3, 3, 0, 0): bad.append("books/live/malformed/stale_epoch")
if d["messages"] < 3: bad.append("messages")
names = [(b["venue"], b["symbol"], b["state"]) for b in d["book_states"]]
if names != [("kraken", "BTC/USD", "live"), ("kraken", "ETH/USD", "live"), ("kucoin", "BTC-USDT", "live")]: bad.append(str(names))
for b in d["book_states"]:
    if not b["best_bid"] or not b["best_ask"] or float(b["best_bid"]) >= float(b["best_ask"]): bad.append(f"top of {b}")
for x in bad: print("FAIL: replica summary:", x)
sys.exit(1 if bad else 0)
PY
check "its state changes went to stderr" grep -Eq '^kraken:BTC/USD [a-z_]+ -> live$' "$work/replica.err"

# 2. --all: every book the engine publishes.
"$obr" replica --nats "$nurl" --all --seconds 3 >"$work/all.out" 2>"$work/all.err"
rc=$?
check "obr replica --all exits 0 (got $rc)" [ "$rc" = 0 ]
check "and shows the three books live" grep -Eq '^replica: 3/3 books live, [1-9][0-9]* messages' "$work/all.out"

# 3. The engine's /metrics: the bus's counters.
hport=$(sed -n 's|.*/health and /metrics on http://127.0.0.1:\([0-9]*\)$|\1|p' "$work/run.err")
if [ -n "$hport" ] && command -v curl >/dev/null; then
  curl -s "http://127.0.0.1:$hport/metrics" >"$work/metrics.txt"
  check "/metrics: the engine holds the 4 shards" has "^obr_bus_shards_held 4$" "$work/metrics.txt"
  check "/metrics: changes published" grep -Eq '^obr_bus_messages_total\{type="change"\} [1-9]' "$work/metrics.txt"
  check "/metrics: connected to NATS" \
    grep -Eq '^obr_bus_nats_connected 1$' "$work/metrics.txt"
  check "/metrics: no publish refused" has '^obr_bus_publish_failures_total 0$' "$work/metrics.txt"
  check "/metrics: 4 leases acquired" has '^obr_bus_lease_events_total{event="acquired"} 4$' "$work/metrics.txt"
else
  echo "FAIL: no /metrics port logged, or no curl"; status=1
fi

# 4. SIGTERM: a clean stop, the bus in the summary; a replica after it sees nothing live.
kill -TERM $engine
wait $engine
rc=$?
check "SIGTERM exits 0 (got $rc)" [ "$rc" = 0 ]
check "the summary has the bus's counters" grep -Eq '"bus":\{"changes":[1-9][0-9]*,' "$work/run.out"
check "it logs the clean end" has "obr run: stopped cleanly" "$work/run.err"
"$obr" replica --nats "$nurl" --seconds 2 kraken:BTC/USD >"$work/after.out" 2>"$work/after.err"
rc=$?
check "obr replica after the stop exits 1: not live (got $rc)" [ "$rc" = 1 ]
[ "$status" = 0 ] || { echo "--- engine stderr:"; tail -30 "$work/run.err"; echo "--- replica stderr:"; cat "$work/replica.err"; }
exit $status

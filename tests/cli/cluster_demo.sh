#!/usr/bin/env bash
# `obr cluster-demo` end to end, small (docs/bus.md "The cluster demo"): nats-server, the
# simulator, 2 engines and 2 replicas for 9 s with the kill and the server restart. The
# summary must show every book live at the end, no wrong book, the killed engine's shards
# taken over within twice the lease TTL, both replicas reconnected once, and latency
# figures for each phase; the exit code must say the same.
#   cluster_demo.sh OBR_BINARY WORK_DIR
set -uo pipefail
obr="$1"
work="$2"
rm -rf "$work" && mkdir -p "$work"
rc=0
"$obr" cluster-demo --engines 2 --symbols 40 --seconds 9 --json >"$work/demo.json" 2>"$work/demo.err" || rc=$?
[ "$rc" = 0 ] || { echo "obr cluster-demo exited $rc"; cat "$work/demo.json" "$work/demo.err"; exit 1; }
python3 - "$work/demo.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(json.dumps(d))
expect = {"books_total": 40, "engines": 2, "consumers": 2, "wrong_books_served": 0,
          "books_live_at_end": 40, "nats_reconnects": 2, "lease_ttl_ms": 2000, "ok": True}
bad = [f"{k}: {d.get(k)!r}, expected {v!r}" for k, v in expect.items() if d.get(k) != v]
# The shards are 32 (the default), two engines: e1 held some, and all came back in time.
if not 1 <= d["takeovers"] <= 32: bad.append(f"takeovers: {d['takeovers']}")
if not 0 < d["takeover_ms_max"] < 2 * d["lease_ttl_ms"]: bad.append(f"takeover_ms_max: {d['takeover_ms_max']}")
if d["epoch_changes"] < 1: bad.append("no epoch change on the replicas after the kill")
if d["changes_published"] < 40 * 9 * 5: bad.append(f"changes_published: {d['changes_published']} (10 a book a second)")
if d["consumer_live_callbacks"] < d["changes_published"]: bad.append("fewer live callbacks than changes")
phases = d["bus_latency_by_phase"]
if sorted(phases) != ["after_kill", "after_restart", "calm"]: bad.append(f"phases: {sorted(phases)}")
if sum(p["messages"] for p in phases.values()) < d["changes_published"]: bad.append("phases count fewer messages than changes")
for name, p in phases.items():
    if p["messages"] == 0 or not 0 < p["p50_us"] <= p["p99_us"]: bad.append(f"phase {name}: {p}")
if not 0 < d["bus_latency_us_p50"] <= d["bus_latency_us_p99"]: bad.append("latency quantiles")
# The judged run starts after the warm-up's backlog drained: a quarter second at least, 10 s at most.
if not 0.25 <= d["settle_s"] < 10.5: bad.append(f"settle_s: {d['settle_s']}")
for b in bad: print("cluster-demo:", b)
sys.exit(1 if bad else 0)
PY

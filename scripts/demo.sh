#!/usr/bin/env bash
# demo.sh — set up, build, and run obr's main job on bundled data (no network needed):
# replay the real Kraken v2, Kraken v1 and KuCoin recordings in tests/data through the
# protocol sessions the live engine runs, and report every book with its checks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh release
d=tests/data
exec ./build/release/tools/obr replay \
  "$d/kraken-v2/btcusd_d10_resubscribe.ndjson" "$d/kraken-v2/btcusd_d25.ndjson" \
  "$d/kraken-v2/ethusd_d25.ndjson" "$d/kraken-v2/xrpusd_d25.ndjson" \
  "$d/kraken-v1/KRAKEN.ws.50.0" \
  "$d/kucoin/KUCOIN.ws.1.0" "$d/kucoin/KUCOIN.http.0.0"

#!/usr/bin/env bash
# demo.sh — set up, build, and run obr's main job on bundled data (no network needed):
# replay four real Kraken v2 recordings through the protocol session and report every book.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh release
d=tests/data/kraken-v2
exec ./build/release/tools/obr replay "$d/btcusd_d10_resubscribe.ndjson" "$d/btcusd_d25.ndjson" \
  "$d/ethusd_d25.ndjson" "$d/xrpusd_d25.ndjson"

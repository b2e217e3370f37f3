#!/usr/bin/env bash
# demo.sh — set up, build, and run obr's main job on bundled data (no network needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh release
exec ./build/release/tools/obr example tests/data/kraken-v2/v2_btcusd_worked_example_snapshot_3310070434.json

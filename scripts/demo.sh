#!/usr/bin/env bash
# demo.sh — set up, build, and run obr's main job on bundled data (no network needed):
#  1. `obr demo`: the exchange simulator on loopback (Kraken v2, KuCoin, Binance spot and
#     USD-M, Bybit spot, linear and inverse, a seeded synthetic market, a schedule of
#     faults) and the live engine connected to it over TLS;
#     a live ladder, then a summary (checks, faults injected and detected, recoveries, wrong
#     books served);
#  2. `obr replay` of the real Kraken v2, Kraken v1, KuCoin, Binance, Bybit and OKX
#     recordings in tests/data.
# Exits non-zero if either reports a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh release
./build/release/tools/obr demo --seconds "${OBR_DEMO_SECONDS:-20}"
echo
d=tests/data
exec ./build/release/tools/obr replay \
  "$d/kraken-v2/btcusd_d10_resubscribe.ndjson" "$d/kraken-v2/btcusd_d25.ndjson" \
  "$d/kraken-v2/ethusd_d25.ndjson" "$d/kraken-v2/xrpusd_d25.ndjson" \
  "$d/kraken-v1/KRAKEN.ws.50.0" \
  "$d/kucoin/KUCOIN.ws.1.0" "$d/kucoin/KUCOIN.http.0.0" \
  "$d/binance/BINANCE.ws.1.0" "$d/binance/BINANCE.http.0.0" \
  "$d/bybit/bybit_v5_orderbook200.ndjson" \
  "$d/okx/OKX.ws.1.0"

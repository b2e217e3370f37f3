#!/usr/bin/env bash
# make_seeds.sh — builds each fuzz target's seed corpus from the real recordings in
# tests/data (third-party fixtures, see tests/data/README.md) plus the hand-written seeds in
# tests/fuzz/seeds/. Session targets take one frame per line, so their seeds are the first
# N received frames of each recording (cryptofeed timestamps stripped); KuCoin symbols are
# renamed to the ones the KuCoin targets subscribe to.
#
#   bash tests/fuzz/make_seeds.sh OUT_DIR     # -> OUT_DIR/<target>/<seed files>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="$here/../data"
out="${1:?usage: make_seeds.sh OUT_DIR}"
rm -rf "$out"
mkdir -p "$out"/{decimal,kraken_v2,kraken_v1,kucoin_ws,kucoin_rest,binance,bybit,okx,recording,bus_wire}

received() { sed -n 's/^[0-9][0-9.]*: //p' "$1"; }   # cryptofeed: received frames only

# decimal: a scale byte (8) then a number as the venues write it.
i=0
for text in 45283.5 0.10000000 5 0.00000048 4.8E-7 1e-08 63000.0 99999999999.99999999 0 1E+3; do
  printf '\010%s' "$text" > "$out/decimal/lit_$i"; i=$((i + 1))
done
grep -o '"[0-9][0-9.eE+-]*"' "$data/kucoin/KUCOIN.http.0.0" | tr -d '"' | sort -u | sed -n "1,200p" |
  while read -r n; do printf '\010%s' "$n" > "$out/decimal/kucoin_$n"; done

# kraken_v2: the first N frames of each recording (ack, snapshot, then updates).
for f in "$data"/kraken-v2/*.ndjson; do
  b=$(basename "$f" .ndjson)
  for n in 4 16 64 256; do head -n "$n" "$f" > "$out/kraken_v2/${b}_$n"; done
done

# kraken_v1: the same from the cryptofeed recording.
received "$data/kraken-v1/KRAKEN.ws.50.0" > "$out/kraken_v1.all"
for n in 4 16 64 256; do head -n "$n" "$out/kraken_v1.all" > "$out/kraken_v1/ws50_$n"; done
rm "$out/kraken_v1.all"

# kucoin_ws: received frames with the busiest symbols renamed to the subscribed ones.
received "$data/kucoin/KUCOIN.ws.1.0" | sed 's/BCHSV-USDT/BTC-USDT/g; s/SNX-BTC/ETH-USDT/g' > "$out/kucoin.all"
for n in 4 16 64 256; do head -n "$n" "$out/kucoin.all" > "$out/kucoin_ws/ws1_$n"; done
grep -m 64 'BTC-USDT' "$out/kucoin.all" > "$out/kucoin_ws/btc_usdt_64"
rm "$out/kucoin.all"

# kucoin_rest: every recorded REST body (snapshots), plus a token response.
i=0
sed -n 's/^https[^ ]* -> [0-9.]*: //p' "$data/kucoin/KUCOIN.http.0.0" | sed -n "1,20p" |
  while IFS= read -r body; do printf '%s' "$body" > "$out/kucoin_rest/http_$i"; i=$((i + 1)); done
cp "$here"/seeds/kucoin_rest/* "$out/kucoin_rest/"

# binance: received frames with the busiest symbols renamed to the subscribed ones, each
# preceded by the first byte that picks the market ("0" spot, "1" USD-M: the same frames
# lack pu, which USD-M requires), and the recorded snapshots as "REST " lines.
received "$data/binance/BINANCE.ws.1.0" | sed 's/NKNUSDT/BTCUSDT/g; s/nknusdt/btcusdt/g; s/LRCBTC/ETHUSDT/g; s/lrcbtc/ethusdt/g' > "$out/binance.all"
sed -n 's/^https[^ ]* -> [0-9.]*: /REST /p' "$data/binance/BINANCE.http.0.0" | sed -n 1p > "$out/binance.rest"
for n in 4 16 64 256; do
  { printf '0'; head -n "$n" "$out/binance.all"; } > "$out/binance/ws1_$n"
  { printf '1'; head -n "$n" "$out/binance.all"; } > "$out/binance/usdm_ws1_$n"
done
{ printf '0'; cat "$out/binance.rest"; grep -m 64 'BTCUSDT' "$out/binance.all"; } > "$out/binance/rest_btcusdt_64"
rm "$out/binance.all" "$out/binance.rest"

# bybit: the real capture's frames (the `data` strings unescaped; they hold no other
# escape) per connection, each preceded by the byte that picks the category and depth
# ("1" linear and "0" spot at 200; "5" linear at depth 1, where a 200-level snapshot is past
# the depth).
bybit_frames() { grep "\"conn\": \"$1\"" "$data/bybit/bybit_v5_orderbook200.ndjson" | sed 's/^.*"data": "//; s/"}$//; s/\\"/"/g'; }
bybit_frames BYBIT.ws.2 > "$out/bybit.linear"
bybit_frames BYBIT.ws.3 > "$out/bybit.spot"
for n in 4 16 64; do
  { printf '1'; head -n "$n" "$out/bybit.linear"; } > "$out/bybit/linear_$n"
  { printf '0'; head -n "$n" "$out/bybit.spot"; } > "$out/bybit/spot_$n"
done
{ printf '5'; head -n 8 "$out/bybit.linear"; } > "$out/bybit/linear_depth1_8"
rm "$out/bybit.linear" "$out/bybit.spot"

# okx: the real recording's received frames (cryptofeed), each seed preceded by the byte
# that picks the channel ("0": books, whose frames these are).
received "$data/okx/OKX.ws.1.0" > "$out/okx.all"
for n in 8 32 128; do
  { printf '0'; head -n "$n" "$out/okx.all"; } > "$out/okx/books_$n"
done
grep -m 40 'books' "$out/okx.all" | { printf '1'; cat; } > "$out/okx/books5_40"
rm "$out/okx.all"

# recording: the head of each format (raw, cryptofeed WebSocket and REST, JSON lines) and
# an obr recording. JSON lines: two connections interleaved line by line, one starting with
# subscribe acks that name no venue (held until a frame does), and the first lines of each
# connection of a real Bybit capture (seeds/recording/bybit_json_lines.jsonl: lines 1-4 and
# 1599-1602 of cryptofeed's sample_data/BYBIT.jsonl, Bybit v5 orderbook.200, 2026-08-09;
# cryptofeed licence, tests/data/kraken-v1/LICENSE.cryptofeed; attribution in NOTICE).
head -n 40 "$data/kraken-v2/btcusd_d10_resubscribe.ndjson" > "$out/recording/raw_kraken_v2"
head -n 40 "$data/kraken-v1/KRAKEN.ws.50.0" > "$out/recording/cryptofeed_kraken_v1"
head -n 40 "$data/kucoin/KUCOIN.ws.1.0" > "$out/recording/cryptofeed_kucoin"
head -n 40 "$data/binance/BINANCE.ws.1.0" > "$out/recording/cryptofeed_binance"
# json_line CONN: each raw frame on stdin as the JSON-lines line of connection CONN.
json_line() { sed 's/\\/\\\\/g; s/"/\\"/g; s/^/{"conn": "'"$1"'", "ts": 1786310819.7200031, "data": "/; s/$/"}/'; }
{ printf '%s\n' '{"op":"subscribe","success":true}' '{"result":null,"id":1}'
  head -n 40 "$data/kraken-v2/btcusd_d10_resubscribe.ndjson"; } | json_line KRAKEN.ws.1 > "$out/jl_a"
received "$data/kucoin/KUCOIN.ws.1.0" > "$out/kucoin.all"
head -n 40 "$out/kucoin.all" | json_line KUCOIN.ws.2 > "$out/jl_b"
paste -d '\n' "$out/jl_a" "$out/jl_b" > "$out/recording/json_lines_kraken_kucoin"
rm "$out/jl_a" "$out/jl_b" "$out/kucoin.all"
# The obr recording compressed, for the readers of compressed files (the reader tells them
# by their first bytes): gzip -n -9 (ISA-L's inflate), zstd -19, and that zstd file cut at
# two thirds (a stream that ends early).
cp "$here"/seeds/recording/* "$out/recording/"
echo "make_seeds: $(find "$out" -type f | wc -l) seeds in $out"

# bus_wire: what an engine publishes for the real Kraken v2 recordings' books (views,
# changes, a snapshot, a heartbeat), written by bus_wire_seeds.py from `obr replay --export`
# and kept in tests/fuzz/seeds/bus_wire/ (the script's header says how to make them again).
cp "$here"/seeds/bus_wire/* "$out/bus_wire/"

#!/usr/bin/env bash
# obr replay beside ccxt pro's Kraken handler on the same Kraken WS v2 capture.
#
# Usage: bench/ccxt/compare.sh [OBR_BINARY]
#   OBR_BINARY  default: build/release/tools/obr of this checkout
# Environment:
#   FRAMES  book updates in the synthetic session (default 200000)
#   RUNS    runs of each side, the median is reported (default 3)
#   WORKDIR where the session is written (default /tmp/obr-ccxt-bench)
#
# Writes the session with `obr synth` (seed 1, 4 symbols, depth 10: the same file
# for every run), installs ccxt into bench/ccxt/node_modules if it is missing,
# runs `obr replay --json` and `node kraken_replay.js` RUNS times each on it,
# alternating, and prints both medians and their ratio. Exits non-zero if a run
# fails, if the two sides count different frames, or if their books (every level
# both report, prices and quantities as numbers) disagree at the end.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
obr="${1:-$root/build/release/tools/obr}"
frames="${FRAMES:-200000}"
runs="${RUNS:-3}"
workdir="${WORKDIR:-/tmp/obr-ccxt-bench}"
seed=1

die() { echo "compare.sh: $*" >&2; exit 1; }
[[ -x "$obr" ]] || die "no obr binary at $obr (pass it as the first argument)"
command -v node >/dev/null || die "node is not installed"
command -v npm >/dev/null || die "npm is not installed"

mkdir -p "$workdir"
session="$workdir/s$((frames / 1000))k.ndjson"
if [[ ! -s "$session" ]]; then
  "$obr" synth --out "$session" --frames "$frames" --seed "$seed" >&2 || die "obr synth failed"
fi

if [[ ! -f "$here/node_modules/ccxt/package.json" ]]; then
  echo "compare.sh: installing ccxt into $here/node_modules" >&2
  (cd "$here" && { npm ci --ignore-scripts --no-audit --no-fund ||
                   npm install --ignore-scripts --no-audit --no-fund; }) >&2 ||
    die "npm could not install ccxt"
fi

load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
out="$workdir/runs"
rm -rf "$out" && mkdir -p "$out"
for i in $(seq 1 "$runs"); do
  "$obr" replay --json "$session" >"$out/obr.$i.json" || die "obr replay failed (run $i, exit $?)"
  node "$here/kraken_replay.js" "$session" >"$out/ccxt.$i.json" || die "kraken_replay.js failed (run $i, exit $?)"
  echo "compare.sh: run $i/$runs: obr $(jq -r .frames_per_s "$out/obr.$i.json") frames/s," \
       "ccxt $(jq -r .frames_per_s "$out/ccxt.$i.json") frames/s" >&2
done

load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

# Medians, the ratio, and the books compared; a non-zero exit on any mismatch.
node - "$out" "$runs" "$session" "$load_before" "$load_after" <<'EOF'
const fs = require('node:fs');
const [out, runs, session, loadBefore, loadAfter] = process.argv.slice(2);
const read = (side, i) => JSON.parse(fs.readFileSync(`${out}/${side}.${i}.json`, 'utf8'));
const obr = [], ccxt = [];
for (let i = 1; i <= Number(runs); i++) { obr.push(read('obr', i)); ccxt.push(read('ccxt', i)); }
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const obrRate = median(obr.map((r) => r.frames_per_s));
const ccxtRate = median(ccxt.map((r) => r.frames_per_s));
const problems = [];
const o = obr[0], c = ccxt[0];
if (o.frames !== c.frames) problems.push(`frames: obr ${o.frames}, ccxt ${c.frames}`);
if (o.validated_books !== o.books.length || o.books.some((b) => b.checks_failed))
  problems.push('obr did not validate every book');
// Every level both sides report, compared as numbers (obr prints decimal strings,
// ccxt keeps JS numbers parsed from the same text, so equal text gives equal doubles).
const ccxtBooks = Object.fromEntries(c.books.map((b) => [b.symbol, b]));
const top = {};
for (const b of o.books) {
  const cb = ccxtBooks[b.symbol];
  if (!cb) { problems.push(`${b.symbol}: no book in ccxt`); continue; }
  for (const side of ['bids', 'asks']) {
    const ol = b[side].map(([p, q]) => [Number(p), Number(q)]);
    const cl = cb[side];
    if (ol.length !== cl.length) problems.push(`${b.symbol} ${side}: obr ${ol.length} levels, ccxt ${cl.length}`);
    for (let k = 0; k < Math.min(ol.length, cl.length); k++) {
      if (ol[k][0] !== cl[k][0] || ol[k][1] !== cl[k][1]) {
        problems.push(`${b.symbol} ${side}[${k}]: obr ${b[side][k]}, ccxt ${cl[k]}`);
        break;
      }
    }
  }
  top[b.symbol] = { bid: b.bids[0], ask: b.asks[0], levels_compared: b.bids.length + b.asks.length };
}
for (const s of Object.keys(ccxtBooks)) if (!o.books.some((b) => b.symbol === s)) problems.push(`${s}: no book in obr`);
const result = {
  session, frames: o.frames, runs: Number(runs),
  obr_frames_per_s: obr.map((r) => r.frames_per_s), ccxt_frames_per_s: ccxt.map((r) => r.frames_per_s),
  obr_median: obrRate, ccxt_median: ccxtRate, ratio: Number((obrRate / ccxtRate).toFixed(2)),
  // each run's obr/ccxt (the two ran one after the other), and their median
  ratio_per_run: obr.map((r, i) => Number((r.frames_per_s / ccxt[i].frames_per_s).toFixed(2))),
  ratio_per_run_median: Number(median(obr.map((r, i) => r.frames_per_s / ccxt[i].frames_per_s)).toFixed(2)),
  loadavg_before: loadBefore, loadavg_after: loadAfter,
  ccxt: c.ccxt, node: c.node, books_agree: problems.length === 0, top,
};
console.log(JSON.stringify(result));
console.log(`obr replay: ${obrRate.toFixed(0)} frames/s (median of ${runs}, validates every checksum)`);
console.log(`ccxt ${c.ccxt} (node ${c.node}): ${ccxtRate.toFixed(0)} frames/s (median of ${runs}, no validation)`);
console.log(`ratio obr/ccxt: ${(obrRate / ccxtRate).toFixed(2)}x of the medians, ${result.ratio_per_run_median}x the median of the ${runs} paired runs; load average ${loadBefore} -> ${loadAfter}`);
console.log(`books at the end: ${problems.length ? 'DISAGREE' : 'agree'} (${o.books.length} symbols, every level of both sides)`);
if (problems.length) { for (const p of problems) console.error('compare.sh: ' + p); process.exit(1); }
EOF

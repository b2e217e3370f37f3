#!/usr/bin/env bash
# `obr replay --export W/x.csv --every 1s --levels 10` of each bundled recording with
# recorded times equals, row by row and cell by cell, what the independent reference
# (tests/reference/export_reference.py: the per-venue Decimal references stepped event by
# event) computes. Also checks the header, that there are rows, and that each book's last
# row equals that book in `obr replay --json` of the recording cut at the last boundary
# (its lines recorded after it dropped: no row can show them).
#   export_reference.sh OBR_BINARY WORK_DIR
# With OBR_EXPORT_SKIP=1 the export runs are skipped and the reference's own rows are held
# to the header, row-count and last-row checks (to check the reference alone).
set -euo pipefail
obr="$1"
work="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="$here/../data"
ref="$here/../reference/export_reference.py"
rm -rf "$work" && mkdir -p "$work"
status=0

check() {  # check NAME FILE...
  local name="$1"
  shift
  local dir="$work/$name"
  mkdir -p "$dir"
  if ! python3 "$ref" --every 1s --levels 10 "$@" >"$dir/reference.csv" 2>"$dir/reference.err"; then
    echo "FAIL $name: the reference failed:"
    cat "$dir/reference.err"
    status=1
    return
  fi
  local export_csv=""
  if [ "${OBR_EXPORT_SKIP:-0}" != 1 ]; then
    local rc=0
    "$obr" replay --export "$dir/obr.csv" --every 1s --levels 10 "$@" >"$dir/export.out" 2>"$dir/export.err" || rc=$?
    if [ "$rc" != 0 ]; then
      echo "FAIL $name: obr replay --export exited $rc:"
      cat "$dir/export.err"
      status=1
      return
    fi
    export_csv="$dir/obr.csv"
  fi
  python3 - "$name" "$obr" "$dir" "$dir/reference.csv" "$export_csv" "$@" <<'PY' || status=1
import csv
import json
import os
import re
import subprocess
import sys
from decimal import Decimal, ROUND_FLOOR

name, obr, work, ref_path, export_path, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]
LEVELS = 10
failed = False


def fail(msg):
    global failed
    failed = True
    print(f'FAIL {name}: {msg}')


def read(path):
    with open(path, newline='', encoding='utf-8') as f:
        raw = f.read()
    if '\r' in raw:
        fail(f'{path}: a \\r in the file (line ends are \\n)')
    return list(csv.reader(raw.splitlines(keepends=True)))


want_header = ['time_ns', 'time', 'venue', 'symbol', 'state', 'sequence']
for i in range(1, LEVELS + 1):
    want_header += [f'bid_price_{i}', f'bid_qty_{i}', f'ask_price_{i}', f'ask_qty_{i}']

tables = {'reference': read(ref_path)}
if export_path:
    tables['obr'] = read(export_path)
for who, table in tables.items():
    if not table or table[0] != want_header:
        fail(f'{who}: header {table[0] if table else None} is not {want_header}')
    elif len(table) < 2:
        fail(f'{who}: no rows')
    for n, row in enumerate(table[1:], 2):
        if len(row) != len(want_header):
            fail(f'{who}: line {n} has {len(row)} cells, not {len(want_header)}')
            break

if 'obr' in tables:
    ref, got = tables['reference'][1:], tables['obr'][1:]
    for i in range(max(len(ref), len(got))):
        r = ref[i] if i < len(ref) else None
        g = got[i] if i < len(got) else None
        if r == g:
            continue
        fail(f'first difference at line {i + 2} (of {len(ref) + 1} in the reference, {len(got) + 1} in the export)')
        print(f'  reference: {",".join(r) if r is not None else "(no row)"}')
        print(f'  obr:       {",".join(g) if g is not None else "(no row)"}')
        if r is not None and g is not None:
            cols = [want_header[c] if c < len(want_header) else str(c) for c in range(max(len(r), len(g)))
                    if (r[c] if c < len(r) else None) != (g[c] if c < len(g) else None)]
            print(f'  differing cells: {", ".join(cols)}')
            t = r[0]
            if g[0] == t and sorted(x for x in ref if x[0] == t) == sorted(x for x in got if x[0] == t):
                print(f'  the rows at time_ns {t} are the same, in another order')
        break
    else:
        print(f'same: {name}: {len(ref)} rows, every cell equal')


def seconds_ns(text):
    return int((Decimal(text) * 10**9).to_integral_value(rounding=ROUND_FLOOR))


def line_ns(line):
    s = line.strip()
    if not s:
        return None
    if s.startswith('{'):
        return seconds_ns(json.loads(s, parse_float=str, parse_int=str)['ts'])
    if s[0].isdigit():
        return seconds_ns(s.split(': ', 1)[0])
    m = re.match(r'^\S+ (?:<->|<-|->) ([0-9.]+)', s)
    return seconds_ns(m.group(1))


def cut(limit):
    """The input files with the lines recorded after `limit` dropped, same names."""
    os.makedirs(os.path.join(work, 'cut'), exist_ok=True)
    out = []
    for f in files:
        path = os.path.join(work, 'cut', os.path.basename(f))
        with open(f, encoding='utf-8') as src, open(path, 'w', encoding='utf-8') as dst:
            for line in src:
                t = line_ns(line)
                if t is None or t <= limit:
                    dst.write(line)
        out.append(path)
    return out


for who, table in tables.items():
    rows = table[1:]
    if not rows:
        continue
    limit = int(rows[-1][0])
    run = subprocess.run([obr, 'replay', '--json'] + cut(limit), capture_output=True, text=True)
    if run.returncode not in (0, 1):
        fail(f'obr replay --json of the cut recording exited {run.returncode}: {run.stderr.strip()}')
        continue
    books = json.loads(run.stdout)['books']
    last = {}
    for row in rows:
        last[(row[2], row[3])] = row
    keys = [(b['venue'], b['symbol']) for b in books]
    if sorted(keys) != sorted(last):
        fail(f'{who}: books in the rows {sorted(last)} are not the books of obr replay --json {sorted(keys)}')
    good = 0
    for b in books:
        row = last.get((b['venue'], b['symbol']))
        if row is None:
            continue
        live = b['state'] == 'live'
        cells = []
        for i in range(LEVELS):
            for side in (b['bids'], b['asks']):
                cells += side[i] if live and i < len(side) else ['', '']
        want = [b['venue'], b['symbol'], b['state'], str(b['sequence']) if 'sequence' in b else ''] + cells
        if row[2:] != want:
            fail(f'{who}: the last row of {b["venue"]} {b["symbol"]} (time_ns {row[0]}) is not the book of '
                 f'obr replay --json cut at {limit}')
            print(f'  row:  {",".join(row[2:])}')
            print(f'  json: {",".join(want)}')
        else:
            good += 1
    print(f'same: {name}: {who}: the last row of each of {good} books is the book of obr replay --json '
          f'(cut at time_ns {limit})')
sys.exit(1 if failed else 0)
PY
}

check kraken-v1 "$data/kraken-v1/KRAKEN.ws.50.0"
check kucoin "$data/kucoin/KUCOIN.ws.1.0" "$data/kucoin/KUCOIN.http.0.0"
check binance "$data/binance/BINANCE.ws.1.0" "$data/binance/BINANCE.http.0.0"
check bybit "$data/bybit/bybit_v5_orderbook200.ndjson"
check okx "$data/okx/OKX.ws.1.0"
exit $status

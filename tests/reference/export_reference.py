#!/usr/bin/env python3
"""Independent reference for `obr replay --export OUT.csv --every D --levels N`: the books
over time, computed by stepping this folder's per-venue references event by event (Python's
decimal.Decimal, no code shared with obr).

Reads the same FILE arguments as `obr replay`: cryptofeed raw-data files (X.ws.N.M, with
its X.http.N.M given beside it when it has one: the two count as one input) and JSON-lines
captures ({"conn", "ts", "data"} per line, several connections in one file). The venue of
an input comes from its recorded URL (kraken: Kraken v1, kucoin, binance, okx) or, for
JSON lines, from its frames (Bybit `orderbook.*` topics, OKX `arg`/`books*` pushes).

Writes the CSV to stdout (RFC 4180, `\\n` line ends), one header and then the rows:

  time_ns,time,venue,symbol,state,sequence,bid_price_1,bid_qty_1,ask_price_1,ask_qty_1,...

- the boundaries of an input are the multiples of D since the Unix epoch b with
  first_ts <= b <= last_ts, first_ts and last_ts the earliest and latest recorded time of
  any line of the input (connects, frames sent and received, REST answers), recorded
  seconds cut (not rounded) to the nanosecond;
- at each b, one row per book of that input that has appeared by b (a book appears at the
  first event after which it is live: its first snapshot applied; a snapshot refused, such
  as a Binance snapshot older than the buffered events, does not make it appear), ordered
  by connection (a JSON-lines file's connections in the order their first lines come in
  the file; other inputs are one connection), then in the order the connection's books
  appeared (by recorded time, then by the order the reference met them), showing the book after every
  event of that book whose recorded time is <= b (each book's events must be in time
  order; a JSON-lines file may interleave connections out of time order);
- time_ns is b, time is b as ISO 8601 UTC with 9 fraction digits;
- venue and symbol as `obr replay --json` names the book (kraken-v1, kucoin, binance,
  binance-usdm, bybit-linear, bybit-spot, bybit-inverse, okx);
- state: live, awaiting_snapshot, resyncing (a Kraken v1 book whose checksum failed, a
  KuCoin book whose sequence broke: resyncing);
- sequence: the last applied sequence (KuCoin's sequence, Binance's u, Bybit's u, OKX's
  seqId), empty when there is none (Kraken v1; OKX before seqIds);
- then N levels, bid and ask interleaved level by level, best first, as the per-venue
  reference prints them in its expected books (the venue's text, or trimmed for KuCoin and
  Bybit spot); empty cells past a side's last level, and every level cell empty when the
  state is not live.

Inputs are exported one after another in command-line order. Usage:

    python3 tests/reference/export_reference.py --every 1s --levels 10 \\
        tests/data/kucoin/KUCOIN.ws.1.0 tests/data/kucoin/KUCOIN.http.0.0 > kucoin.csv
"""
import argparse
import bisect
import csv
import datetime
import json
import os
import re
import sys
from decimal import Decimal, ROUND_FLOOR

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import binance_reference  # noqa: E402
import bybit_reference  # noqa: E402
import kraken_v1_reference  # noqa: E402
import kucoin_reference  # noqa: E402
import okx_reference  # noqa: E402

UNITS = {'ns': 1, 'us': 10**3, 'ms': 10**6, 's': 10**9, 'm': 60 * 10**9, 'h': 3600 * 10**9}
CRYPTOFEED = re.compile(r'^\S+ (<->|<-|->) ([0-9]+(?:\.[0-9]+)?)(?::|$)')


def duration_ns(text):
    m = re.fullmatch(r'([0-9]+)(ns|us|ms|s|m|h)', text)
    if not m or int(m.group(1)) == 0:
        raise argparse.ArgumentTypeError(f'{text!r}: want a positive whole number and a unit (ns, us, ms, s, m, h)')
    return int(m.group(1)) * UNITS[m.group(2)]


def ns(ts_text):
    """Recorded Unix seconds (decimal text) as nanoseconds, the digits past the 9th cut."""
    if not re.fullmatch(r'[0-9]+(\.[0-9]+)?', str(ts_text)):
        raise ValueError(f'recorded time {ts_text!r} is not Unix seconds')
    return int((Decimal(ts_text) * 10**9).to_integral_value(rounding=ROUND_FLOOR))


def iso(t_ns):
    seconds, frac = divmod(t_ns, 10**9)
    day = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    return day.strftime('%Y-%m-%dT%H:%M:%S') + f'.{frac:09d}Z'


def is_json_lines(path):
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.strip():
                return line.lstrip().startswith('{')
    return False


def line_times(path):
    """The recorded time (ns) of every line of a cryptofeed or JSON-lines file."""
    out = []
    json_lines = is_json_lines(path)
    for n, line in enumerate(open(path, encoding='utf-8'), 1):
        line = line.strip()
        if not line:
            continue
        if json_lines:
            out.append(ns(json.loads(line, parse_float=str, parse_int=str)['ts']))
        elif line[0].isdigit():
            out.append(ns(line.split(': ', 1)[0]))
        else:
            m = CRYPTOFEED.match(line)
            if not m:
                raise ValueError(f'{path}:{n}: no recorded time in {line[:80]!r}')
            out.append(ns(m.group(2)))
    return out


def first_url(path):
    for line in open(path, encoding='utf-8'):
        m = CRYPTOFEED.match(line.strip())
        if m:
            return line.split(' ', 1)[0]
    return ''


def connection_ranks(path):
    """A JSON-lines file's connections, each with the rank of its first line in the file."""
    ranks = {}
    for line in open(path, encoding='utf-8'):
        if line.strip():
            ranks.setdefault(json.loads(line)['conn'], len(ranks))
    return ranks


def json_lines_venue(path):
    for line in open(path, encoding='utf-8'):
        if not line.strip():
            continue
        frame = json.loads(line)['data']
        if isinstance(frame, str):
            try:
                frame = json.loads(frame)
            except ValueError:
                continue
        if not isinstance(frame, dict):
            continue
        if str(frame.get('topic', '')).startswith('orderbook.'):
            return 'bybit'
        if okx_reference.is_book_channel(str((frame.get('arg') or {}).get('channel', ''))):
            return 'okx'
    raise SystemExit(f'export_reference: {path}: no Bybit or OKX book frame tells the venue')


def inputs(files):
    """Groups FILE arguments into inputs: (ws or JSON-lines path, http path or None)."""
    http = {}
    for f in files:
        m = re.fullmatch(r'(.*)\.http\.[0-9]+\.[0-9]+', f)
        if m:
            http[m.group(1)] = f
    paired = set(http.values())
    out = []
    for f in files:
        if f in paired:
            continue
        m = re.fullmatch(r'(.*)\.ws\.[0-9]+\.[0-9]+', f)
        out.append((f, http.pop(m.group(1), None) if m else None))
    if http:
        raise SystemExit(f'export_reference: {", ".join(http.values())}: no .ws. file beside it')
    return out


def cells(levels, bids, asks, live):
    row = []
    for i in range(levels):
        for side in (bids, asks):
            row += side[i] if live and i < len(side) else ['', '']
    return row


def views(ws, http):
    """Steps the venue's reference over one input; yields (recorded time text, key, venue,
    symbol, appeared, state, sequence, top(n) -> (bids, asks)) after every event that reached
    a book."""
    if is_json_lines(ws):
        venue = json_lines_venue(ws)
        if venue == 'bybit':
            for ts, b, _ in bybit_reference.steps(ws):
                yield (ts, (b.conn, b.symbol), bybit_reference.VENUES[b.category], b.symbol, b.snapshots > 0,
                       b.state, b.sequence, b.levels)
        else:
            for ts, b, _ in okx_reference.steps(ws):
                yield ts, (b.conn, b.inst_id), 'okx', b.inst_id, b.snapshots > 0, b.state, b.sequence, b.levels
        return
    url = first_url(ws)
    if 'kraken' in url:
        for ts, pair, books, _ in kraken_v1_reference.steps(ws):
            b = books[pair]
            top = (lambda b: lambda n: (kraken_v1_reference.top(b, 'bids', n), kraken_v1_reference.top(b, 'asks', n)))(b)
            yield ts, pair, 'kraken-v1', pair, True, 'live' if b['live'] else 'resyncing', None, top
    elif 'kucoin' in url:
        if not http:
            raise SystemExit(f'export_reference: {ws}: KuCoin books need the .http. file beside it')
        for ts, sym, books in kucoin_reference.steps(ws, http):
            b = books[sym]
            top = (lambda b: lambda n: (kucoin_reference.top(b, 'bids', n), kucoin_reference.top(b, 'asks', n)))(b)
            state = 'live' if b['live'] else 'resyncing' if b['snapshots'] else 'awaiting_snapshot'
            yield ts, sym, 'kucoin', sym, b['snapshots'] > 0, state, b['seq'], top
    elif 'binance' in url:
        if not http:
            raise SystemExit(f'export_reference: {ws}: Binance books need the .http. file beside it')
        venue = 'binance-usdm' if 'fstream.binance' in url else 'binance'
        for ts, sym, books in binance_reference.steps(ws, http):
            b = books[sym]
            top = (lambda b: lambda n: (binance_reference.top(b, 'bids', n), binance_reference.top(b, 'asks', n)))(b)
            yield ts, sym, venue, sym, b['snapshots'] > 0, b['state'], b['id'], top
    elif 'okx' in url:
        for ts, b, _ in okx_reference.steps(ws):
            yield ts, b.inst_id, 'okx', b.inst_id, b.snapshots > 0, b.state, b.sequence, b.levels
    else:
        raise SystemExit(f'export_reference: {ws}: cannot tell the venue from the recorded URL {url!r}')


def export(ws, http, every, levels, out):
    times = line_times(ws) + (line_times(http) if http else [])
    if not times:
        return 0
    first, last = min(times), max(times)
    timelines = {}  # key -> [ns], [row]; in the order the reference met the books
    appeared = {}  # key -> (ns, order met)
    for ts, key, venue, symbol, has_snapshot, state, sequence, top in views(ws, http):
        if key not in appeared and not (has_snapshot and state == 'live'):
            continue  # no snapshot applied yet (one refused, as Binance's older than its buffer, is none)
        t = ns(ts)
        if key not in appeared:
            appeared[key] = (t, len(appeared))
            timelines[key] = ([], [])
        stamps, rows = timelines[key]
        if stamps and t < stamps[-1]:
            raise SystemExit(f'export_reference: {ws}: {venue} {symbol}: recorded time {ts} goes back')
        bids, asks = top(levels)
        stamps.append(t)
        rows.append([venue, symbol, state, '' if sequence is None else str(sequence)]
                    + cells(levels, bids, asks, state == 'live'))
    ranks = connection_ranks(ws) if is_json_lines(ws) else {}
    order = sorted(appeared, key=lambda k: (ranks[k[0]] if ranks else 0, appeared[k]))
    n = 0
    b = -(-first // every) * every
    while b <= last:
        for key in order:
            if appeared[key][0] > b:
                continue
            stamps, rows = timelines[key]
            out.writerow([str(b), iso(b)] + rows[bisect.bisect_right(stamps, b) - 1])
            n += 1
        b += every
    return n


def header(levels):
    cols = ['time_ns', 'time', 'venue', 'symbol', 'state', 'sequence']
    for i in range(1, levels + 1):
        cols += [f'bid_price_{i}', f'bid_qty_{i}', f'ask_price_{i}', f'ask_qty_{i}']
    return cols


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    ap.add_argument('--every', type=duration_ns, default=duration_ns('1s'), help='the step, e.g. 1s (default)')
    ap.add_argument('--levels', type=int, default=10, help='levels per side (default 10)')
    ap.add_argument('files', nargs='+', metavar='FILE')
    args = ap.parse_args(argv)
    if args.levels < 1:
        raise SystemExit('export_reference: --levels wants at least 1')
    out = csv.writer(sys.stdout, lineterminator='\n')
    out.writerow(header(args.levels))
    for ws, http in inputs(args.files):
        n = export(ws, http, args.every, args.levels, out)
        print(f'{ws}: {n} rows', file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv[1:])

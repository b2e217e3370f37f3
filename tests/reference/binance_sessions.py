#!/usr/bin/env python3
"""Generates Binance diff-depth sessions in cryptofeed raw-data format, each with the trouble
a real capture can hold, and their expected books from the independent reference
(binance_reference.py). Writes tests/data/binance/generated/<name>.ws.1.0, <name>.http.0.0
and <name>.expected.json:

    python3 tests/reference/binance_sessions.py tests/data/binance/generated

Each session is a seeded random market (two symbols, prices with 2 decimals, quantities
with 8) recorded as a client would: WebSocket events every 10 ms and REST snapshots of the
true book at the moment they are taken, at the times the scenario says. The trouble:

- stale: the first snapshot predates the first buffered event (fetched again later);
- gap: an event is missing from the stream (a live book gaps; a later snapshot bridges it);
- duplicate: an event arrives twice (skipped);
- reorder: two events arrive swapped (a gap; the later snapshot bridges both);
- refetch: snapshots taken while the book is live, one newer (replaces the book) and one
  older than it (ignored);
- buffered: the first snapshot arrives after newer events were buffered (the normal case);
- usdm: the same market on USD-M futures (pu links the events; U skips ahead now and then);
- unfinished: a reorder, then a gap with no snapshot after it (the book ends resyncing,
  its levels as they were).

The generator also checks the reference: every book the reference ends live must equal the
market's true book at its id.
"""
import json
import os
import random
import sys

import binance_reference

SCENARIOS = {
    'stale': {'stale_first': True},
    'gap': {'drop': [40]},
    'duplicate': {'duplicate': [30, 31]},
    'reorder': {'swap': [50]},
    'refetch': {'live_snapshots': [(60, 0), (80, -6)]},
    'buffered': {'first_snapshot_after': 6},
    'usdm': {'futures': True, 'drop': [45], 'duplicate': [20]},
    'unfinished': {'drop': [95], 'swap': [70]},
}


def fmt_price(ticks):
    return f'{ticks // 100}.{ticks % 100:02d}'


def fmt_qty(units):
    return f'{units // 10**8}.{units % 10**8:08d}'


class Market:
    def __init__(self, rng, symbol, mid, futures):
        self.rng, self.symbol, self.futures = rng, symbol, futures
        self.bids = {mid - i: rng.randint(1, 10**9) for i in range(1, 30)}
        self.asks = {mid + i: rng.randint(1, 10**9) for i in range(1, 30)}
        self.mid = mid
        self.u = 1000 + rng.randint(0, 10**6)
        self.history = {self.u: self.book()}

    def book(self):
        return ({p: q for p, q in self.bids.items()}, {p: q for p, q in self.asks.items()})

    def event(self, ts):
        changes = {'b': [], 'a': []}
        for _ in range(self.rng.randint(1, 4)):
            side = self.rng.choice('ba')
            levels = self.bids if side == 'b' else self.asks
            price = self.mid - self.rng.randint(1, 35) if side == 'b' else self.mid + self.rng.randint(1, 35)
            qty = 0 if (price in levels and self.rng.random() < 0.3) else self.rng.randint(1, 10**9)
            if qty == 0:
                levels.pop(price, None)
            else:
                levels[price] = qty
            changes[side].append([fmt_price(price), fmt_qty(qty)])
        prev = self.u
        first = prev + 1 + (self.rng.randint(1, 3) if self.futures and self.rng.random() < 0.2 else 0)
        self.u = first + self.rng.randint(0, 2)
        self.history[self.u] = self.book()
        data = {'e': 'depthUpdate', 'E': int(ts * 1000)}
        if self.futures:
            data['T'] = int(ts * 1000)
        data.update({'s': self.symbol, 'U': first, 'u': self.u})
        if self.futures:
            data['pu'] = prev
        data.update({'b': changes['b'], 'a': changes['a']})
        stream = self.symbol.lower() + '@depth@100ms'
        return json.dumps({'stream': stream, 'data': data}, separators=(',', ':'))

    def snapshot(self, at_u):
        bids, asks = self.history[at_u]
        return json.dumps({'lastUpdateId': at_u,
                           'bids': [[fmt_price(p), fmt_qty(q)] for p, q in sorted(bids.items(), reverse=True)],
                           'asks': [[fmt_price(p), fmt_qty(q)] for p, q in sorted(asks.items())]},
                          separators=(',', ':'))


def generate(name, spec, seed, out_dir):
    rng = random.Random(seed)
    futures = spec.get('futures', False)
    host = 'wss://fstream.binance.com/stream' if futures else 'wss://stream.binance.com:9443/stream'
    rest = ('https://fapi.binance.com/fapi/v1/depth' if futures else 'https://api.binance.com/api/v3/depth')
    markets = [Market(rng, 'BTCUSDT', 6500000, futures), Market(rng, 'ETHUSDT', 345000, futures)]
    for m in markets:  # the market moved before the capture started
        for _ in range(5):
            m.event(1699999999.0)
    ws = [f'{host}?streams=btcusdt@depth@100ms/ethusdt@depth@100ms <-> 1700000000.000000']
    http = []
    t = 1700000000.0
    swapped = None
    first_after = spec.get('first_snapshot_after', 3)
    for i in range(100):
        for m in markets:
            t += 0.005
            start_u = m.u
            frame = m.event(t)
            line = f'{t:.6f}: {frame}'
            if m.symbol == 'BTCUSDT' and i in spec.get('drop', []):
                continue
            if m.symbol == 'BTCUSDT' and i in spec.get('swap', []):
                swapped = frame
                continue
            ws.append(line)
            if swapped is not None and m.symbol == 'BTCUSDT':
                ws.append(f'{t + 0.0001:.6f}: {swapped}')
                swapped = None
            if m.symbol == 'BTCUSDT' and i in spec.get('duplicate', []):
                ws.append(f'{t + 0.0001:.6f}: {frame}')
            if i == first_after - 1 and spec.get('stale_first') and m.symbol == 'BTCUSDT':
                # a snapshot of the book before this session's first event
                http.append(f'{rest}?symbol={m.symbol}&limit=1000 -> {t + 0.001:.6f}: '
                            f'{m.snapshot(min(m.history))}')
            elif i == first_after:
                http.append(f'{rest}?symbol={m.symbol}&limit=1000 -> {t + 0.001:.6f}: {m.snapshot(m.u)}')
            if m.symbol == 'BTCUSDT' and spec.get('stale_first') and i == first_after + 5:
                http.append(f'{rest}?symbol={m.symbol}&limit=1000 -> {t + 0.001:.6f}: {m.snapshot(m.u)}')
            if m.symbol == 'BTCUSDT' and any(i == k + 10 for k in spec.get('drop', []) + spec.get('swap', [])):
                http.append(f'{rest}?symbol={m.symbol}&limit=1000 -> {t + 0.001:.6f}: {m.snapshot(m.u)}')
            for at, back in spec.get('live_snapshots', []):
                if m.symbol == 'BTCUSDT' and i == at:
                    # back 0: the book as of this event, answered just before the event
                    # itself arrives (newer than the replica); back < 0: events ago (older)
                    ids = sorted(m.history)
                    when = t - 0.001 if back == 0 else t + 0.001
                    http.append(f'{rest}?symbol={m.symbol}&limit=1000 -> {when:.6f}: '
                                f'{m.snapshot(ids[len(ids) - 1 + back])}')
            del start_u
    base = os.path.join(out_dir, name)
    with open(base + '.ws.1.0', 'w', encoding='utf-8') as f:
        f.write('\n'.join(ws) + '\n')
    with open(base + '.http.0.0', 'w', encoding='utf-8') as f:
        f.write('\n'.join(http) + '\n')
    books = binance_reference.main(base + '.ws.1.0', base + '.http.0.0')
    for b in books:  # the reference's live books are the market's truth at their id
        if b['state'] != 'live':
            continue
        m = next(m for m in markets if m.symbol == b['symbol'])
        bids, asks = m.history[b['sequence']]
        want_bids = [[fmt_price(p), fmt_qty(q)] for p, q in sorted(bids.items(), reverse=True)[:10]]
        want_asks = [[fmt_price(p), fmt_qty(q)] for p, q in sorted(asks.items())[:10]]
        assert b['bids'] == want_bids and b['asks'] == want_asks, f'{name}: {b["symbol"]} differs from the truth'
    with open(base + '.expected.json', 'w', encoding='utf-8') as f:
        json.dump({'books': books}, f, indent=1)
        f.write('\n')
    return books


if __name__ == '__main__':
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for n, (name, spec) in enumerate(SCENARIOS.items()):
        for b in generate(name, spec, 1000 + n, out):
            print(name, b['symbol'], b['state'], b['snapshots'], b['updates'], b['checks_failed'], b['resyncs_requested'])

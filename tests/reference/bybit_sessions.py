#!/usr/bin/env python3
"""Generates Bybit v5 orderbook sessions in the JSON-lines capture format, each with the
trouble a real capture can hold, and their expected books from the independent reference
(bybit_reference.py). Writes tests/data/bybit/generated/<name>.ndjson and
<name>.expected.json:

    python3 tests/reference/bybit_sessions.py tests/data/bybit/generated

The files are synthetic: seeded random markets, no third-party data. Running the script
again writes identical files (fixed seeds, no clock, no hash-order dependence).

Each line is {"conn": "BYBIT.ws.N", "ts": RECEIVE_SECONDS, "data": FRAME} as in the real
capture (tests/data/bybit/bybit_v5_orderbook200.ndjson). Each topic orderbook.D.SYM is fed
by its own random market (prices on a tick, sparse levels, quantities mostly small, a
sweep of the best levels now and then) and sent the way Bybit sends it: a snapshot of the
top D on subscribe, then per message the difference between the top D sent before and the
top D now, so levels leaving the top D arrive as deletes ("0") and levels entering it as
inserts; the client never truncates and each side stays at exactly D levels. `u` goes up
by one per message per topic (updates the client misses still use theirs), `seq` (the
market's cross sequence) goes up by a random step. Spot frames put "ts" before "type" and
trim trailing zeros ("65140.4", "0.0012"); linear and inverse frames put "type" before
"ts" and write fixed decimals per symbol ("65114.20", "0.010", "77.300", "1200"). Each
connection opens with its subscribe ack ({"success":true,"ret_msg":"","conn_id":"…",
"req_id":"1","op":"subscribe"}) and has pongs near its start and in its middle (spot
without "req_id", derivatives with "req_id":""). After a failed check the client
resubscribes (requests numbered 1, 2, ... per connection): an unsubscribe ack, a subscribe
ack, and a snapshot whose u is the topic's current one (the market moved meanwhile, so u
is past the last delta sent); the deltas between the failed check and the acks are sent
and ignored.

The scenarios, one file each:

- gap: linear depth 200, BTCUSDT and ETHUSDT; one BTCUSDT delta never arrives (a failed
  check, ignored deltas, then the resubscribe snapshot);
- duplicate: spot depth 200, BTCUSDT and ETHUSDT; one ETHUSDT delta arrives twice (the copy
  fails: u <= sequence);
- reorder: linear depth 200, SOLUSDT and DOGEUSDT; two SOLUSDT deltas arrive swapped (the
  first fails as a gap, the late one is ignored);
- unprompted: spot depth 50, BTCUSDT, ETHUSDT and SOLUSDT; a snapshot arrives mid-stream
  on a live book and replaces it: BTCUSDT after updates that were never sent (u jumps
  ahead, levels the client holds are gone), ETHUSDT with u lowered by 3 (the next deltas
  follow from there), SOLUSDT repeating the current u; no check fails;
- restart: linear depth 50, BTCUSDT and ETHUSDT; the service restarts: after a pause each
  book gets a u = 1 message with the whole book, BTCUSDT's typed "snapshot", ETHUSDT's
  typed "delta" (u = 1 is a snapshot whatever its type), then deltas u = 2, 3, ...;
- level1: linear depth 1, BTCUSDT and ETHUSDT; snapshot-only messages; twice the market
  stays still for 3 s and both books get the previous message again (same u, same seq);
  one ETHUSDT message never arrives (u skips one: snapshots carry no check);
- both: spot and linear depth 200 books of the same symbols, BTCUSDT and ETHUSDT, on two
  connections (BYBIT.ws.1 linear, BYBIT.ws.2 spot), interleaved; the spot ETHUSDT book
  misses a delta and resubscribes, the linear ETHUSDT book does not;
- depth50: linear depth 50, BTCUSDT and SOLUSDT, a fast market (sweeps most messages):
  heavy deletes and refills at the bottom of the top 50;
- unfinished: linear depth 200, BTCUSDT and DOGEUSDT; a BTCUSDT delta is missing near the
  end; the resubscribe acks arrive but the capture ends before the snapshot (BTCUSDT ends
  resyncing with its last levels);
- inverse: inverse depth 50, BTCUSD and BTCUSDZ26 (category told by the symbol: ends in
  USD, or USD + month code + two digits); one BTCUSDZ26 delta arrives twice.

The generator checks the reference: every book's levels (all of them, not just the top 10)
equal the market's true top D at the book's last applied u, every book the reference ends
live equals the topic's true top D at the end, and no applied message leaves a side off
depth or a book crossed.
"""
import json
import os
import random
import sys

import bybit_reference

BASE_MS = 1786400000000  # 2026-08-10
SKEW = 0.412  # receive clock ahead of the venue's, seconds

# (category, symbol) -> price decimals, tick (in price units), start best bid (units),
# quantity decimals, largest quantity (units)
INSTRUMENTS = {
    ('linear', 'BTCUSDT'): (2, 10, 6511420, 3, 6000),
    ('linear', 'ETHUSDT'): (2, 1, 192242, 2, 20000),
    ('linear', 'SOLUSDT'): (3, 10, 77300, 1, 50000),
    ('linear', 'DOGEUSDT'): (5, 1, 7053, 0, 800000),
    ('spot', 'BTCUSDT'): (2, 10, 6514040, 6, 900000),
    ('spot', 'ETHUSDT'): (2, 1, 192328, 5, 900000),
    ('spot', 'SOLUSDT'): (2, 1, 7731, 3, 90000),
    ('inverse', 'BTCUSD'): (2, 50, 6510050, 0, 200000),
    ('inverse', 'BTCUSDZ26'): (2, 50, 6632000, 0, 90000),
}

# conns: (category, depth, symbols) per connection, named BYBIT.ws.1, .2, ... in order;
# faults: (connection number, symbol) -> {round: fault}; session-wide: 'repeat' rounds,
# 'restart' (round, {symbol: type of the u = 1 message}).
SCENARIOS = {
    'gap': {'conns': [('linear', 200, ['BTCUSDT', 'ETHUSDT'])], 'rounds': 45,
            'faults': {(1, 'BTCUSDT'): {15: 'drop'}}},
    'duplicate': {'conns': [('spot', 200, ['BTCUSDT', 'ETHUSDT'])], 'rounds': 45,
                  'faults': {(1, 'ETHUSDT'): {20: 'duplicate'}}},
    'reorder': {'conns': [('linear', 200, ['SOLUSDT', 'DOGEUSDT'])], 'rounds': 45,
                'faults': {(1, 'SOLUSDT'): {18: 'swap'}}},
    'unprompted': {'conns': [('spot', 50, ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'])], 'rounds': 60,
                   'faults': {(1, 'BTCUSDT'): {20: 'unprompted_jump'}, (1, 'ETHUSDT'): {30: 'unprompted_lower'},
                              (1, 'SOLUSDT'): {40: 'unprompted_same'}}},
    'restart': {'conns': [('linear', 50, ['BTCUSDT', 'ETHUSDT'])], 'rounds': 60,
                'restart': (30, {'BTCUSDT': 'snapshot', 'ETHUSDT': 'delta'})},
    'level1': {'conns': [('linear', 1, ['BTCUSDT', 'ETHUSDT'])], 'rounds': 120, 'repeat': [40, 41, 90],
               'faults': {(1, 'ETHUSDT'): {60: 'quiet_drop'}}},
    'both': {'conns': [('linear', 200, ['BTCUSDT', 'ETHUSDT']), ('spot', 200, ['BTCUSDT', 'ETHUSDT'])],
             'rounds': 30, 'faults': {(2, 'ETHUSDT'): {12: 'drop'}}},
    'depth50': {'conns': [('linear', 50, ['BTCUSDT', 'SOLUSDT'])], 'rounds': 90, 'volatile': True},
    'unfinished': {'conns': [('linear', 200, ['BTCUSDT', 'DOGEUSDT'])], 'rounds': 45,
                   'faults': {(1, 'BTCUSDT'): {38: 'unfinished'}}},
    'inverse': {'conns': [('inverse', 50, ['BTCUSD', 'BTCUSDZ26'])], 'rounds': 60,
                'faults': {(1, 'BTCUSDZ26'): {25: 'duplicate'}}},
}

INTERVAL_MS = {1: 10, 50: 20, 200: 100, 1000: 200}


def fixed(units, decimals):
    if decimals == 0:
        return str(units)
    return f'{units // 10**decimals}.{units % 10**decimals:0{decimals}d}'


class Market:
    """One instrument's whole book (more levels than any topic shows), in integer units."""

    def __init__(self, rng, category, symbol, depth, volatile):
        self.rng, self.category, self.depth, self.volatile = rng, category, depth, volatile
        self.pdec, self.tick, best, self.qdec, self.qmax = INSTRUMENTS[(category, symbol)]
        self.seq = rng.randint(10**11, 9 * 10**11)
        self.bids = {best: self.qty()}
        self.asks = {best + self.tick: self.qty()}
        self.keep = max(depth, 10) + 25
        self.refill()

    def qty(self):
        q = int(self.qmax * self.rng.random()**3) + 1
        if self.qdec and self.rng.random() < 0.25:  # round sizes: trailing zeros to trim on spot
            unit = 10**self.rng.randint(1, self.qdec)
            q = max(unit, q // unit * unit)
        return q

    def refill(self):
        for side, sign in ((self.bids, -1), (self.asks, 1)):
            while len(side) < self.keep:
                worst = min(side) if sign < 0 else max(side)
                side[worst + sign * self.tick * self.rng.randint(1, 2)] = self.qty()
            while len(side) > self.keep + 40:
                del side[min(side) if sign < 0 else max(side)]

    def window(self, side, reverse):
        return sorted(side, reverse=reverse)[:self.depth + 5]

    def step(self):
        rng = self.rng
        self.seq += rng.randint(1, 40)
        for _ in range(rng.randint(1, 6 if self.volatile else 4)):
            bid = rng.random() < 0.5
            side = self.bids if bid else self.asks
            levels = self.window(side, bid)
            r = rng.random()
            if r < 0.45:
                side[levels[int(len(levels) * rng.random()**2)]] = self.qty()
            elif r < 0.7 and len(side) > 1:
                del side[levels[int(len(levels) * rng.random())]]
            else:
                span = self.tick * rng.randint(1, self.depth + 5)
                price = min(self.asks) - span if bid else max(self.bids) + span
                side[price] = self.qty()
        if rng.random() < (0.6 if self.volatile else 0.05):
            self.sweep(rng.random() < 0.5, rng.randint(1, 8 if self.volatile else 3))
        self.refill()

    def sweep(self, bids, k):
        """Takes the k best levels of one side; the other side may step into the gap."""
        side, other = (self.bids, self.asks) if bids else (self.asks, self.bids)
        for _ in range(min(k, len(side) - 1)):
            del side[max(side) if bids else min(side)]
        lo, hi = max(self.bids) + self.tick, min(self.asks) - self.tick
        for _ in range(self.rng.randint(0, k)):
            if lo > hi:
                break
            price = self.rng.randint(lo // self.tick, hi // self.tick) * self.tick
            if (price < min(self.asks)) and (price > max(self.bids)):
                other[price] = self.qty()

    def top(self, depth):
        return (dict(sorted(self.bids.items(), reverse=True)[:depth]),
                dict(sorted(self.asks.items())[:depth]))

    def text(self, units, decimals):
        t = fixed(units, decimals)
        return bybit_reference.trimmed(t) if self.category == 'spot' else t

    def levels(self, side, reverse):
        return [[self.text(p, self.pdec), self.text(q, self.qdec)] for p, q in sorted(side.items(), reverse=reverse)]

    def diff(self, old, new, reverse):
        out = []
        for p in sorted(set(old) | set(new), reverse=reverse):
            if p not in new:
                out.append([self.text(p, self.pdec), '0'])
            elif old.get(p) != new[p]:
                out.append([self.text(p, self.pdec), self.text(new[p], self.qdec)])
        return out


class Topic:
    """One orderbook.D.SYM subscription as the venue serves it."""

    def __init__(self, rng, conn, category, depth, symbol, volatile):
        self.conn, self.category, self.depth, self.symbol = conn, category, depth, symbol
        self.market = Market(rng, category, symbol, depth, volatile)
        self.u = rng.randint(10**6, 9 * 10**7)
        self.sent = self.market.top(depth)
        self.history = {}
        self.subscribed = True

    def frame(self, kind, bids, asks, ts, cts, seq=None):
        head = {'topic': f'orderbook.{self.depth}.{self.symbol}'}
        if self.category == 'spot':
            head['ts'], head['type'] = ts, kind
        else:
            head['type'], head['ts'] = kind, ts
        head['data'] = {'s': self.symbol, 'b': bids, 'a': asks, 'u': self.u,
                        'seq': self.market.seq if seq is None else seq}
        head['cts'] = cts
        return json.dumps(head, separators=(',', ':'))

    def snapshot(self, ts, cts, kind='snapshot'):
        self.sent = self.market.top(self.depth)
        self.history[self.u] = self.sent
        m = self.market
        return self.frame(kind, m.levels(self.sent[0], True), m.levels(self.sent[1], False), ts, cts)

    def next(self, ts, cts):
        """The next message: the market moves until the top D changes; u += 1."""
        for _ in range(200):
            self.market.step()
            new = self.market.top(self.depth)
            if new != self.sent:
                break
        self.u += 1
        if self.depth == 1:  # level 1 is snapshot-only
            return self.snapshot(ts, cts)
        m = self.market
        bids, asks = m.diff(self.sent[0], new[0], True), m.diff(self.sent[1], new[1], False)
        self.sent = new
        self.history[self.u] = new
        return self.frame('delta', bids, asks, ts, cts)


def conn_id(rng):
    h = '%032x' % rng.getrandbits(128)
    return f'{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}'


def generate(name, spec, seed, out_dir):
    rng = random.Random(seed)
    volatile = spec.get('volatile', False)
    conns = []  # (name, category, conn_id, [Topic])
    for n, (category, depth, symbols) in enumerate(spec['conns'], 1):
        cname = f'BYBIT.ws.{n}'
        conns.append((cname, category, conn_id(rng),
                      [Topic(rng, cname, category, depth, s, volatile) for s in symbols]))
    topics = {(int(c[0].rsplit('.', 1)[1]), t.symbol): t for c in conns for t in c[3]}
    faults = {topics[k]: v for k, v in spec.get('faults', {}).items()}
    interval = min(INTERVAL_MS[t.depth] for t in topics.values())
    lines = []
    clock = {'ms': BASE_MS, 'recv': 0.0}
    req_ids = {c[0]: 1 for c in conns}

    def stamp():
        clock['ms'] += rng.randint(1, 3)
        return clock['ms'], clock['ms'] - rng.randint(2, 60)

    def write(conn, text):
        recv = max(clock['recv'] + 0.00002, clock['ms'] / 1000 + SKEW + rng.random() * 0.002)
        clock['recv'] = recv
        lines.append(json.dumps({'conn': conn, 'ts': round(recv, 7), 'data': text}))

    def ack(c, op):  # the client numbers its requests 1, 2, ... per connection
        rid = str(req_ids[c[0]])
        req_ids[c[0]] += 1
        write(c[0], json.dumps({'success': True, 'ret_msg': '', 'conn_id': c[2], 'req_id': rid, 'op': op},
                               separators=(',', ':')))

    def pong(c):
        body = {'success': True, 'ret_msg': 'pong', 'conn_id': c[2]}
        if c[1] != 'spot':
            body['req_id'] = ''
        body['op'] = 'ping'
        write(c[0], json.dumps(body, separators=(',', ':')))

    conn_of = {t: c for c in conns for t in c[3]}
    for c in conns:  # connect and subscribe; each ack comes before any book of its connection
        ack(c, 'subscribe')
    for c in conns:
        for t in c[3]:
            write(c[0], t.snapshot(*stamp()))
    resub = {}  # topic -> (round, with snapshot)
    held = {}  # topic -> a frame held back (swap)
    restart = spec.get('restart')
    rounds = spec['rounds']
    for r in range(1, rounds):
        clock['ms'] += interval
        if r in (2, rounds // 2):
            for c in conns:
                pong(c)
        if restart and r == restart[0]:  # the service restarts: a pause, then u = 1 with the whole book
            clock['ms'] += 1500
            for c in conns:
                for t in c[3]:
                    for _ in range(rng.randint(3, 6)):
                        t.market.step()
                    t.u = 1
                    write(c[0], t.snapshot(*stamp(), kind=restart[1][t.symbol]))
            continue
        order = [t for c in conns for t in c[3]]
        rng.shuffle(order)
        for t in order:
            c = conn_of[t]
            if not t.subscribed:
                continue
            if t in resub and resub[t][0] == r:
                ack(c, 'unsubscribe')
                ack(c, 'subscribe')
                with_snapshot = resub.pop(t)[1]
                for _ in range(rng.randint(1, 2)):  # the market moves during the round trip (u used, not sent)
                    t.next(*stamp())
                if with_snapshot:
                    write(c[0], t.snapshot(*stamp()))
                else:
                    t.subscribed = False
                continue
            fault = faults.get(t, {}).get(r)
            if fault == 'unprompted_jump':
                for _ in range(3):
                    t.next(*stamp())
                write(c[0], t.snapshot(*stamp()))
                continue
            if fault == 'unprompted_lower':
                t.market.step()
                t.u -= 3
                write(c[0], t.snapshot(*stamp()))
                continue
            if fault == 'unprompted_same':
                write(c[0], t.snapshot(*stamp()))
                continue
            frame = t.next(*stamp())
            if fault in ('drop', 'quiet_drop', 'unfinished'):
                if fault != 'quiet_drop':
                    resub[t] = (r + 3, fault == 'drop')
                continue
            if fault == 'swap':
                held[t] = frame
                resub[t] = (r + 3, True)
                continue
            write(c[0], frame)
            if t in held:
                write(c[0], held.pop(t))
            if fault == 'duplicate':
                write(c[0], frame)
                resub[t] = (r + 2, True)
        if r in spec.get('repeat', []):  # 3 s without a change: level 1 is pushed again, same u
            clock['ms'] += 3000
            for c in conns:
                for t in c[3]:
                    ts, cts = stamp()
                    m = t.market
                    write(c[0], t.frame('snapshot', m.levels(t.sent[0], True), m.levels(t.sent[1], False), ts, cts,
                                        seq=m.seq))
    path = os.path.join(out_dir, name + '.ndjson')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
    books = bybit_reference.replay(path)
    for b in books:
        t = topics[(int(b.conn.rsplit('.', 1)[1]), b.symbol)]
        assert b.category == t.category and b.depth == t.depth, f'{name}: {b.conn} {b.symbol} category or depth'
        assert b.off_depth == 0 and b.crossed == 0, f'{name}: {b.conn} {b.symbol} off depth or crossed'
        m = t.market
        if b.snapshots:
            truth = t.history[b.sequence]
            want = m.levels(truth[0], True), m.levels(truth[1], False)
            assert b.levels(None) == want, f'{name}: {b.conn} {b.symbol} differs from the truth at u {b.sequence}'
        if b.state == 'live':
            want = m.levels(t.sent[0], True), m.levels(t.sent[1], False)
            assert b.levels(None) == want, f'{name}: {b.conn} {b.symbol} ends live but not at the true book'
    reports = [b.report() for b in books]
    with open(os.path.join(out_dir, name + '.expected.json'), 'w', encoding='utf-8') as f:
        json.dump({'books': reports}, f, indent=1)
        f.write('\n')
    return reports


if __name__ == '__main__':
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for n, (name, spec) in enumerate(SCENARIOS.items()):
        for b in generate(name, spec, 2000 + n, out):
            print(name, b['conn'], b['venue'], b['symbol'], b['state'], b['snapshots'], b['updates'],
                  b['checks_passed'], b['checks_failed'], b['resyncs_requested'], b['sequence'])

#!/usr/bin/env python3
"""Generates OKX v5 `books` sessions in cryptofeed raw-data format, each with the trouble a
real capture can hold, and their expected books from the independent reference
(okx_reference.py). Writes tests/data/okx/generated/<name>.ws.1.0 and
<name>.expected.json:

    python3 tests/reference/okx_sessions.py tests/data/okx/generated

The files are synthetic: seeded random markets, no third-party data. Running the script
again writes identical files (fixed seeds, no clock, no hash-order dependence).

Each file is one connection to wss://ws.okx.com:8443/ws/v5/public: the connect line
(`URL <-> TS`), the subscribe sent (`URL <- TS: {"id":"1","op":"subscribe","args":[...]}`),
one answer per instId (`{"id":"1","event":"subscribe","arg":{...},"connId":"..."}`), then the
pushes received (`TS: FRAME`, TS in Unix seconds with 6 decimals). Each instId is fed by
its own random market (prices on a tick, sparse levels, a sweep of the best levels now and
then) and served the way OKX serves `books`: a snapshot of the top D levels (D = 30 to 60
here; OKX sends 400), then every 100 ms an update holding only the levels that changed in
the top D (a level leaving it arrives as a delete, [px, "0", "0", "0"]; one entering it as
an insert), so the book a client keeps equals the venue's top D. Levels are
[px, sz, "0", orders], numbers written without trailing zeros ("65140", "0.0012"). Every
push carries "ts" (ms), "checksum" (signed CRC32 of the top 25 of each side interleaved,
or 0 where the scenario says), "prevSeqId" and "seqId" (seqId goes up by a random step per
push per instId; prevSeqId is the previous push's seqId, -1 on a snapshot). The client
pings (`URL <- TS: ping`, answered `TS: pong`) mid-session and during quiet spells. After
a failed check the client resubscribes the instId: it sends {"op":"unsubscribe"} at once;
the push already in flight arrives (ignored), then the unsubscribe answer; next round it
sends {"op":"subscribe"}, gets the answer, and a snapshot whose seqId is the market's
current one (the market moved meanwhile, so seqId is past the last push sent).

The scenarios, one file each:

- gap: BTC-USDT, ETH-USDT, BTC-USDT-SWAP; one BTC-USDT update never arrives (the next
  update's prevSeqId does not match: a failed check, then the resubscribe snapshot);
- duplicate: BTC-USDT, ETH-USDT; one ETH-USDT update arrives twice (the copy fails);
- reorder: BTC-USDT-SWAP, UNI-USD-SWAP; two UNI-USD-SWAP updates arrive swapped (the first
  fails as a gap, the late one is ignored);
- bad_checksum: BTC-USDT, ETH-USDT; one BTC-USDT update carries a wrong checksum (its
  seqIds chain; it is applied and counted, then fails the checksum);
- reset: BTC-USDT, ETH-USD-260925; the documented sequence reset: each book gets one update
  with seqId < prevSeqId (a small seqId), the next updates follow from it; no check fails;
- nochange: BTC-USDT, ETH-USDT; twice the market stays still for 60 s (the client pings at
  25 s and 50 s) and each book gets a no-change message: asks [] and bids [],
  prevSeqId == seqId == the last seqId, the checksum of the unchanged book; no check fails;
- unprompted: BTC-USDT, ETH-USDT, UNI-USD-SWAP; a snapshot (prevSeqId -1) arrives
  mid-stream on a live book and replaces it: BTC-USDT after pushes that were never sent
  (seqId jumps ahead, levels the client holds are gone), ETH-USDT repeating the current
  seqId and book; no check fails;
- checksum_zero: BTC-USDT, ETH-USDT; every checksum is 0 (OKX since June 2026), so only
  seqIds are checked (snapshots carry no check); one ETH-USDT update never arrives (the
  seqId check catches it);
- doc_example: BTC-USDT, ETH-USDT; each book gets OKX-doc's sequence: snapshot (-1, 10),
  update (10, 15), no-change (15, 15) after 60 s, reset (15, 3), update (3, 5), with valid
  checksums: 1 snapshot, 4 updates, 5 checks passed, sequence 5;
- unfinished: BTC-USDT, BTC-USDT-SWAP; a BTC-USDT update is missing near the end; the
  unsubscribe and subscribe answers arrive but the capture ends before the snapshot
  (BTC-USDT ends resyncing with its last levels).

The generator checks the reference: every book's levels (all of them, not just the top 10)
equal the market's true top D at the book's last applied seqId, every book the reference
ends live equals the true top D at the end, no applied push leaves a book crossed, and each
book's failed checks and final state are the ones the scenario intends.
"""
import json
import os
import random
import sys

import okx_reference

URL = 'wss://ws.okx.com:8443/ws/v5/public'
BASE_MS = 1778457600000  # 2026-05-11, before OKX fixed the checksum to 0
BASE_MS_ZERO = 1786406400000  # 2026-08-11, after
SKEW_US = 41200  # receive clock ahead of the venue's, microseconds
INTERVAL_MS = 100

# instId -> price decimals, tick (in price units), start best bid (units), size decimals,
# largest size (units)
INSTRUMENTS = {
    'BTC-USDT': (1, 1, 651404, 8, 90000000),
    'ETH-USDT': (2, 1, 192242, 6, 40000000),
    'BTC-USDT-SWAP': (1, 1, 651380, 2, 300000),
    'UNI-USD-SWAP': (3, 1, 5137, 0, 2000),
    'ETH-USD-260925': (2, 1, 193110, 0, 5000),
}

# insts: (instId, depth) in subscribe order; faults: instId -> {round: fault}; 'quiet':
# rounds after which the market stays still 60 s and every book gets a no-change message;
# 'expect': instId -> (checks_failed, final state), checked against the reference.
SCENARIOS = {
    'gap': {'insts': [('BTC-USDT', 40), ('ETH-USDT', 40), ('BTC-USDT-SWAP', 30)], 'rounds': 40,
            'faults': {'BTC-USDT': {15: 'drop'}},
            'expect': {'BTC-USDT': (1, 'live'), 'ETH-USDT': (0, 'live'), 'BTC-USDT-SWAP': (0, 'live')}},
    'duplicate': {'insts': [('BTC-USDT', 40), ('ETH-USDT', 40)], 'rounds': 45,
                  'faults': {'ETH-USDT': {20: 'duplicate'}},
                  'expect': {'BTC-USDT': (0, 'live'), 'ETH-USDT': (1, 'live')}},
    'reorder': {'insts': [('BTC-USDT-SWAP', 40), ('UNI-USD-SWAP', 40)], 'rounds': 45,
                'faults': {'UNI-USD-SWAP': {18: 'swap'}},
                'expect': {'BTC-USDT-SWAP': (0, 'live'), 'UNI-USD-SWAP': (1, 'live')}},
    'bad_checksum': {'insts': [('BTC-USDT', 50), ('ETH-USDT', 50)], 'rounds': 45,
                     'faults': {'BTC-USDT': {22: 'bad_checksum'}},
                     'expect': {'BTC-USDT': (1, 'live'), 'ETH-USDT': (0, 'live')}},
    'reset': {'insts': [('BTC-USDT', 40), ('ETH-USD-260925', 40)], 'rounds': 45,
              'faults': {'BTC-USDT': {20: 'reset'}, 'ETH-USD-260925': {30: 'reset'}},
              'expect': {'BTC-USDT': (0, 'live'), 'ETH-USD-260925': (0, 'live')}},
    'nochange': {'insts': [('BTC-USDT', 40), ('ETH-USDT', 40)], 'rounds': 45, 'quiet': [15, 30],
                 'expect': {'BTC-USDT': (0, 'live'), 'ETH-USDT': (0, 'live')}},
    'unprompted': {'insts': [('BTC-USDT', 40), ('ETH-USDT', 40), ('UNI-USD-SWAP', 30)], 'rounds': 40,
                   'faults': {'BTC-USDT': {15: 'unprompted_jump'}, 'ETH-USDT': {25: 'unprompted_same'}},
                   'expect': {'BTC-USDT': (0, 'live'), 'ETH-USDT': (0, 'live'), 'UNI-USD-SWAP': (0, 'live')}},
    'checksum_zero': {'insts': [('BTC-USDT', 60), ('ETH-USDT', 60)], 'rounds': 45, 'zero': True,
                      'faults': {'ETH-USDT': {17: 'drop'}},
                      'expect': {'BTC-USDT': (0, 'live'), 'ETH-USDT': (1, 'live')}},
    'doc_example': {'insts': [('BTC-USDT', 30), ('ETH-USDT', 30)], 'doc': True,
                    'expect': {'BTC-USDT': (0, 'live'), 'ETH-USDT': (0, 'live')}},
    'unfinished': {'insts': [('BTC-USDT', 40), ('BTC-USDT-SWAP', 40)], 'rounds': 40,
                   'faults': {'BTC-USDT': {36: 'unfinished'}},
                   'expect': {'BTC-USDT': (1, 'resyncing'), 'BTC-USDT-SWAP': (0, 'live')}},
}


def text(units, decimals):
    """OKX's number text: no trailing zeros, no bare '.'."""
    if decimals == 0:
        return str(units)
    t = f'{units // 10**decimals}.{units % 10**decimals:0{decimals}d}'
    return t.rstrip('0').rstrip('.')


class Market:
    """One instrument's whole book (more levels than the topic shows), in integer units;
    a level is (size, orders)."""

    def __init__(self, rng, inst, depth):
        self.rng, self.depth = rng, depth
        self.pdec, self.tick, best, self.qdec, self.qmax = INSTRUMENTS[inst]
        self.bids = {best: self.level()}
        self.asks = {best + self.tick: self.level()}
        self.keep = depth + 25
        self.refill()

    def level(self):
        q = int(self.qmax * self.rng.random()**3) + 1
        if self.qdec and self.rng.random() < 0.3:  # round sizes: trailing zeros OKX does not write
            unit = 10**self.rng.randint(1, self.qdec)
            q = max(unit, q // unit * unit)
        return q, self.rng.randint(1, 25)

    def refill(self):
        for side, sign in ((self.bids, -1), (self.asks, 1)):
            while len(side) < self.keep:
                worst = min(side) if sign < 0 else max(side)
                side[worst + sign * self.tick * self.rng.randint(1, 3)] = self.level()
            while len(side) > self.keep + 40:
                del side[min(side) if sign < 0 else max(side)]

    def step(self):
        rng = self.rng
        for _ in range(rng.randint(1, 4)):
            bid = rng.random() < 0.5
            side = self.bids if bid else self.asks
            levels = sorted(side, reverse=bid)[:self.depth + 5]
            r = rng.random()
            if r < 0.45:
                side[levels[int(len(levels) * rng.random()**2)]] = self.level()
            elif r < 0.7 and len(side) > 1:
                del side[levels[int(len(levels) * rng.random())]]
            else:
                span = self.tick * rng.randint(1, self.depth + 5)
                price = min(self.asks) - span if bid else max(self.bids) + span
                side[price] = self.level()
        if rng.random() < 0.06:
            self.sweep(rng.random() < 0.5, rng.randint(1, 3))
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
            if min(self.asks) > price > max(self.bids):
                other[price] = self.level()

    def top(self):
        return (dict(sorted(self.bids.items(), reverse=True)[:self.depth]),
                dict(sorted(self.asks.items())[:self.depth]))

    def wire(self, side, reverse):
        return [[text(p, self.pdec), text(q, self.qdec), '0', str(n)] for p, (q, n) in sorted(side.items(),
                                                                                            reverse=reverse)]

    def pairs(self, side, reverse):
        return [[text(p, self.pdec), text(q, self.qdec)] for p, (q, _) in sorted(side.items(), reverse=reverse)]

    def diff(self, old, new, reverse):
        out = []
        for p in sorted(set(old) | set(new), reverse=reverse):
            if p not in new:
                out.append([text(p, self.pdec), '0', '0', '0'])
            elif old.get(p) != new[p]:
                q, n = new[p]
                out.append([text(p, self.pdec), text(q, self.qdec), '0', str(n)])
        return out


class Topic:
    """One books subscription (an instId) as the venue serves it."""

    def __init__(self, rng, inst, depth, zero):
        self.rng, self.inst, self.depth, self.zero = rng, inst, depth, zero
        self.market = Market(rng, inst, depth)
        self.seq = rng.randint(10**9, 9 * 10**9)
        self.sent = self.market.top()
        self.history = {}
        self.subscribed = True

    def arg(self):
        return {'channel': 'books', 'instId': self.inst}

    def checksum(self, view):
        if self.zero:
            return 0
        m = self.market
        return okx_reference.signed_crc32(okx_reference.checksum_text(m.pairs(view[0], True)[:25],
                                                                      m.pairs(view[1], False)[:25]))

    def frame(self, action, bids, asks, ts, prev, checksum=None):
        data = {'asks': asks, 'bids': bids, 'ts': str(ts),
                'checksum': self.checksum(self.sent) if checksum is None else checksum,
                'prevSeqId': prev, 'seqId': self.seq}
        return json.dumps({'arg': self.arg(), 'action': action, 'data': [data]}, separators=(',', ':'))

    def snapshot(self, ts, seq=None):
        """A snapshot of the current top D; seqId moves on by a step unless given."""
        self.seq = self.seq + self.rng.randint(1, 40) if seq is None else seq
        self.sent = self.market.top()
        self.history[self.seq] = self.sent
        m = self.market
        return self.frame('snapshot', m.wire(self.sent[0], True), m.wire(self.sent[1], False), ts, -1)

    def update(self, ts, seq=None, checksum=None):
        """The next update: the market moves until the top D changes; seqId moves on."""
        for _ in range(200):
            self.market.step()
            new = self.market.top()
            if new != self.sent:
                break
        prev = self.seq
        self.seq = self.seq + self.rng.randint(1, 40) if seq is None else seq
        m = self.market
        bids, asks = m.diff(self.sent[0], new[0], True), m.diff(self.sent[1], new[1], False)
        self.sent = new
        self.history[self.seq] = new
        return self.frame('update', bids, asks, ts, prev, checksum)

    def no_change(self, ts, seq=None):
        prev = self.seq
        self.seq = prev if seq is None else seq
        self.history[self.seq] = self.sent
        return self.frame('update', [], [], ts, prev)


class Session:
    def __init__(self, rng, base_ms):
        self.rng = rng
        self.ms = base_ms
        self.recv_us = 0
        self.lines = []
        self.next_id = 1
        self.conn_id = '%08x' % rng.getrandbits(32)

    @staticmethod
    def stamp_text(us):
        return f'{us // 10**6}.{us % 10**6:06d}'

    def venue_ts(self):
        self.ms += self.rng.randint(1, 3)
        return self.ms

    def recv(self, frame):
        us = max(self.recv_us + 20, self.ms * 1000 + SKEW_US + self.rng.randint(0, 2000))
        self.recv_us = us
        self.lines.append(f'{self.stamp_text(us)}: {frame}')

    def send(self, frame):
        self.recv_us = max(self.recv_us + self.rng.randint(30, 400),
                           self.ms * 1000 + SKEW_US + self.rng.randint(0, 500))
        self.lines.append(f'{URL} <- {self.stamp_text(self.recv_us)}: {frame}')

    def request(self, op, topics):
        rid = str(self.next_id)
        self.next_id += 1
        self.send(json.dumps({'id': rid, 'op': op, 'args': [t.arg() for t in topics]}, separators=(',', ':')))
        return rid

    def answer(self, rid, op, topic):
        self.ms += self.rng.randint(5, 30)
        self.recv(json.dumps({'id': rid, 'event': op, 'arg': topic.arg(), 'connId': self.conn_id},
                             separators=(',', ':')))

    def ping(self):
        self.send('ping')
        self.ms += self.rng.randint(20, 60)
        self.recv('pong')


def doc_example(s, topics):
    """OKX-doc's sequence per book: snapshot (-1, 10), update (10, 15), no-change (15, 15)
    after a quiet minute, reset (15, 3), update (3, 5)."""
    for t in topics:
        s.recv(t.snapshot(s.venue_ts(), seq=10))
    s.ms += INTERVAL_MS
    for t in topics:
        s.recv(t.update(s.venue_ts(), seq=15))
    for _ in range(2):  # a quiet minute, kept alive by pings
        s.ms += 25000
        s.ping()
    s.ms += 10000
    for t in topics:
        s.recv(t.no_change(s.venue_ts()))
    s.ms += INTERVAL_MS
    for t in topics:
        s.recv(t.update(s.venue_ts(), seq=3))
    s.ms += INTERVAL_MS
    for t in topics:
        s.recv(t.update(s.venue_ts(), seq=5))


def generate(name, spec, seed, out_dir):
    rng = random.Random(seed)
    zero = spec.get('zero', False)
    s = Session(rng, BASE_MS_ZERO if zero else BASE_MS)
    topics = {inst: Topic(rng, inst, depth, zero) for inst, depth in spec['insts']}
    order0 = list(topics.values())
    s.lines.append(f'{URL} <-> {s.stamp_text(s.ms * 1000 + SKEW_US - 350000)}')
    s.recv_us = s.ms * 1000 + SKEW_US - 300000
    rid = s.request('subscribe', order0)
    for t in order0:
        s.answer(rid, 'subscribe', t)
    if spec.get('doc'):
        doc_example(s, order0)
    else:
        for t in order0:
            s.recv(t.snapshot(s.venue_ts()))
        run(rng, spec, s, topics)
    path = os.path.join(out_dir, name + '.ws.1.0')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(s.lines) + '\n')
    return check(name, spec, path, topics)


def run(rng, spec, s, topics):
    faults = {inst: dict(f) for inst, f in spec.get('faults', {}).items()}  # grows 'fails' marks
    unfinished = {inst for inst, f in faults.items() if 'unfinished' in f.values()}
    phase = {}  # instId -> ('unsubscribed' | 'subscribe' | 'snapshot', round)
    held = {}  # instId -> a frame held back (swap)
    rounds = spec['rounds']
    for r in range(1, rounds):
        s.ms += INTERVAL_MS
        if r == rounds // 2:
            s.ping()
        order = list(topics.values())
        rng.shuffle(order)
        for t in order:
            if not t.subscribed:
                continue
            step = phase.get(t.inst)
            if step and step[1] == r:
                if step[0] == 'in_flight':  # a push already on its way, then the unsubscribe answer
                    s.recv(t.update(s.venue_ts()))
                    s.answer(step[2], 'unsubscribe', t)
                    phase[t.inst] = ('subscribe', r + 1)
                elif step[0] == 'subscribe':
                    rid = s.request('subscribe', [t])
                    s.answer(rid, 'subscribe', t)
                    for _ in range(rng.randint(1, 2)):  # the market moves meanwhile (seqIds used, not sent)
                        t.update(s.venue_ts())
                    if t.inst in unfinished:
                        t.subscribed = False  # the capture ends before the snapshot
                        del phase[t.inst]
                    else:
                        phase[t.inst] = ('snapshot', r + 1)
                else:
                    s.recv(t.snapshot(s.venue_ts()))
                    del phase[t.inst]
                continue
            if step:  # unsubscribed: nothing is pushed
                continue
            fault = faults.get(t.inst, {}).get(r)
            failed = False
            if fault == 'unprompted_jump':
                for _ in range(3):
                    t.update(s.venue_ts())
                s.recv(t.snapshot(s.venue_ts()))
                continue
            if fault == 'unprompted_same':
                s.recv(t.snapshot(s.venue_ts(), seq=t.seq))
                continue
            if fault == 'reset':
                frame = t.update(s.venue_ts(), seq=rng.randint(1, 500))
            elif fault == 'bad_checksum':
                frame = t.update(s.venue_ts())
                good = json.loads(frame)['data'][0]['checksum']
                frame = frame.replace(f'"checksum":{good},', f'"checksum":{good ^ 0x5A5A},')
                failed = True
            else:
                frame = t.update(s.venue_ts())
            if fault in ('drop', 'unfinished'):
                faults[t.inst][r + 1] = 'fails'  # the next push does not chain
                continue
            if fault == 'swap':
                held[t.inst] = frame
                faults[t.inst][r + 1] = 'fails'
                continue
            s.recv(frame)
            if t.inst in held:
                s.recv(held.pop(t.inst))
            if fault == 'duplicate':
                s.recv(frame)
                failed = True
            if fault == 'fails' or failed:
                rid_un = s.request('unsubscribe', [t])
                phase[t.inst] = ('in_flight', r + 1, rid_un)
        if r in spec.get('quiet', []):  # a minute without a change: pings, then no-change messages
            for _ in range(2):
                s.ms += 25000
                s.ping()
            s.ms += 10000
            for t in topics.values():
                if t.subscribed and t.inst not in phase:
                    s.recv(t.no_change(s.venue_ts()))


def check(name, spec, path, topics):
    books, _ = okx_reference.replay(path)
    assert [b.inst_id for b in books] == [i for i, _ in spec['insts']], f'{name}: books'
    for b in books:
        t = topics[b.inst_id]
        m = t.market
        assert b.crossed == 0, f'{name}: {b.inst_id} crossed'
        truth = t.history[b.sequence]
        assert b.levels(None) == (m.pairs(truth[0], True), m.pairs(truth[1], False)), \
            f'{name}: {b.inst_id} differs from the truth at seqId {b.sequence}'
        if b.state == 'live':
            assert b.sequence == t.seq, f'{name}: {b.inst_id} ends live before the last seqId'
            assert b.levels(None) == (m.pairs(t.sent[0], True), m.pairs(t.sent[1], False)), \
                f'{name}: {b.inst_id} ends live but not at the true book'
        want = spec['expect'][b.inst_id]
        assert (b.failed, b.state) == want, f'{name}: {b.inst_id} {b.failed} failed, {b.state}; want {want}'
        if spec.get('zero'):
            assert b.crc_ok == b.crc_bad == 0, f'{name}: {b.inst_id} checked a zero checksum'
    reports = [b.report() for b in books]
    with open(os.path.join(os.path.dirname(path), name + '.expected.json'), 'w', encoding='utf-8') as f:
        json.dump({'books': reports}, f, indent=1)
        f.write('\n')
    return books


if __name__ == '__main__':
    if len(sys.argv) != 2:
        raise SystemExit('usage: okx_sessions.py OUT_DIR')
    okx_reference.self_check()
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for n, (name, spec) in enumerate(SCENARIOS.items()):
        for b in generate(name, spec, 3000 + n, out):
            r = b.report()
            print(name, r['symbol'], r['state'], r['snapshots'], r['updates'], r['checks_passed'],
                  r['checks_failed'], r['resyncs_requested'], r['sequence'],
                  f'crc {b.crc_ok}/{b.crc_bad} seq {b.seq_ok}/{b.seq_bad} nochange {b.no_change} resets {b.resets}')

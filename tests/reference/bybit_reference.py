#!/usr/bin/env python3
"""Independent reference for Bybit v5 `orderbook.{depth}.{symbol}` captures.

Reads a JSON-lines capture, one object per line, {"conn": NAME, "ts": RECEIVE_SECONDS,
"data": FRAME} with the WebSocket frame as a JSON string (several connections interleaved
in one file), and keeps one set of books per connection the way the agreed Bybit behaviour
says (PROTOCOLS.md section 4), with Python's decimal.Decimal and no code shared with obr:

- a connection's category (bybit-spot, bybit-linear, bybit-inverse) comes from its first
  book frame: "ts" before "type" is spot; "type" before "ts" is a derivative, linear when
  the symbol ends in USDT or PERP or holds a '-', inverse when it ends in USD or in USD, a
  month code letter and two digits (BTCUSDZ26); anything else is an error naming the
  connection, unless --category CONN=spot|linear|inverse names it;
- a book is one symbol on one connection; its depth is the topic's;
- a "snapshot", or any book message with u == 1 (a restart), replaces the book (never
  merges), whatever its u: snapshots += 1, sequence = u, state live;
- a "delta" on a live book with u == sequence + 1 is applied (size 0 deletes, deleting an
  absent price is a no-op, an unknown price inserts, else the size is replaced):
  updates += 1, checks_passed += 1, sequence = u;
- a "delta" on a live book with any other u (a duplicate, a late frame of a reorder, a gap)
  fails: checks_failed += 1, resyncs_requested += 1, state resyncing, nothing applied;
- a "delta" on a book that is not live is ignored;
- after a snapshot or an applied delta, a side with more levels than the topic's depth is
  a failed check too (checks_failed += 1, resyncs_requested += 1, state resyncing); such a
  delta is not counted in updates or checks_passed and leaves sequence where it was;
- frames that are not book messages (subscribe acks, pongs) are skipped.

Writes {"books": [...]} as JSON to stdout, books in the order first seen per connection and
connections in the order their first line appears: conn, venue, symbol, state, snapshots,
updates, checks_passed, checks_failed, resyncs_requested, sequence (last applied u, -1 if
none), and the top 10 bids (highest first) and asks (lowest first) as [price, qty] text:
bybit-spot trims trailing fractional zeros ("65140.40" -> "65140.4", "65140.0" -> "65140");
bybit-linear and bybit-inverse keep the venue's fixed decimals ("65114.20", "0.010").

Also audits the stream per book and prints it to stderr: book messages, snapshots, deltas,
deltas whose u is not the previous message's u + 1, messages whose seq does not exceed the
previous one's, applied messages after which a side does not hold exactly the topic's
depth, and applied messages after which the book is crossed. Produces
tests/data/bybit/bybit_v5_orderbook200.expected.json and the expected files of the
generated sessions (tests/reference/bybit_sessions.py):

    python3 tests/reference/bybit_reference.py tests/data/bybit/bybit_v5_orderbook200.ndjson \\
        > tests/data/bybit/bybit_v5_orderbook200.expected.json
"""
import argparse
import json
import re
import sys
from decimal import Decimal

VENUES = {'spot': 'bybit-spot', 'linear': 'bybit-linear', 'inverse': 'bybit-inverse'}
INVERSE_SYMBOL = re.compile(r'USD([FGHJKMNQUVXZ][0-9]{2})?$')


def category_of(conn, frame, symbol):
    """The category of a connection with no URL, from its first book frame (a parsed dict,
    keys in wire order) and that frame's symbol."""
    keys = list(frame)
    if 'ts' not in keys or 'type' not in keys:
        raise ValueError(f'connection {conn}: first book frame lacks "ts" or "type"; '
                         f'name the category with --category {conn}=spot|linear|inverse')
    if keys.index('ts') < keys.index('type'):
        return 'spot'
    if symbol.endswith('USDT') or symbol.endswith('PERP') or '-' in symbol:
        return 'linear'
    if INVERSE_SYMBOL.search(symbol):
        return 'inverse'
    raise ValueError(f'connection {conn}: cannot tell linear from inverse for {symbol}; '
                     f'name the category with --category {conn}=linear|inverse')


def trimmed(text):
    """Decimal text without trailing fractional zeros (and without a bare '.')."""
    if '.' in text:
        text = text.rstrip('0').rstrip('.')
    return text


class Book:
    def __init__(self, conn, category, symbol, depth):
        self.conn, self.category, self.symbol, self.depth = conn, category, symbol, depth
        self.bids, self.asks = {}, {}  # Decimal price -> (price text, qty text)
        self.state = 'awaiting_snapshot'
        self.snapshots = self.updates = self.passed = self.failed = self.resyncs = 0
        self.sequence = None
        # the audit (stderr only)
        self.messages = self.snapshot_messages = self.delta_messages = 0
        self.not_contiguous = self.seq_not_increasing = self.off_depth = self.crossed = 0
        self.last_u = self.last_seq = None

    def load(self, data):
        self.bids = {Decimal(p): (p, q) for p, q in data['b'] if Decimal(q) != 0}
        self.asks = {Decimal(p): (p, q) for p, q in data['a'] if Decimal(q) != 0}

    def apply(self, data):
        for side, key in ((self.bids, 'b'), (self.asks, 'a')):
            for p, q in data[key]:
                if Decimal(q) == 0:
                    side.pop(Decimal(p), None)
                else:
                    side[Decimal(p)] = (p, q)

    def fail(self):
        self.failed += 1
        self.resyncs += 1
        self.state = 'resyncing'

    def on_message(self, msg):
        data = msg['data']
        u, seq = int(data['u']), data.get('seq')
        kind = msg['type']
        self.messages += 1
        if kind == 'delta':
            self.delta_messages += 1
            if self.last_u is not None and u != self.last_u + 1:
                self.not_contiguous += 1
        if seq is not None:
            if self.last_seq is not None and int(seq) <= self.last_seq:
                self.seq_not_increasing += 1
            self.last_seq = int(seq)
        self.last_u = u
        if kind == 'snapshot' or u == 1:
            self.snapshot_messages += 1
            self.load(data)
            self.snapshots += 1
            self.sequence = u
            self.state = 'live'
        elif kind == 'delta':
            if self.state != 'live':
                return
            if u != self.sequence + 1:
                self.fail()
                return
            self.apply(data)
            if len(self.bids) > self.depth or len(self.asks) > self.depth:
                self.fail()  # a delta that leaves a side past the depth is not counted as applied
                return
            self.updates += 1
            self.passed += 1
            self.sequence = u
        else:
            raise ValueError(f'{self.conn} {self.symbol}: unknown message type {kind!r}')
        if len(self.bids) != self.depth or len(self.asks) != self.depth:
            self.off_depth += 1
        if self.bids and self.asks and max(self.bids) >= min(self.asks):
            self.crossed += 1
        if len(self.bids) > self.depth or len(self.asks) > self.depth:
            self.fail()

    def levels(self, n=10):
        """Top n (all when n is None) bids and asks as [price, qty] text, as reported."""
        def text(t):
            return trimmed(t) if self.category == 'spot' else t

        def side(levels, reverse):
            keys = sorted(levels, reverse=reverse)
            return [[text(levels[p][0]), text(levels[p][1])] for p in (keys if n is None else keys[:n])]
        return side(self.bids, True), side(self.asks, False)

    def report(self):
        bids, asks = self.levels()
        return {'conn': self.conn, 'venue': VENUES[self.category], 'symbol': self.symbol, 'state': self.state,
                'snapshots': self.snapshots, 'updates': self.updates, 'checks_passed': self.passed,
                'checks_failed': self.failed, 'resyncs_requested': self.resyncs,
                'sequence': self.sequence if self.sequence is not None else -1, 'bids': bids, 'asks': asks}


def replay(path, categories=None):
    """Replays the capture at path; returns its books (Book), in report order."""
    conns = {}
    for _, _, conns in steps(path, categories):
        pass
    return [b for books in conns.values() for b in books.values()]


def steps(path, categories=None):
    """Replays the capture at path; yields (the line's "ts" as written, the Book the line's
    book message went to, conns) after every book message; conns: conn -> {symbol: Book},
    both in first-seen order, the same dict each time, changed in place."""
    categories = dict(categories or {})
    conns = {}  # conn -> {symbol: Book}, both in first-seen order
    for n, line in enumerate(open(path, encoding='utf-8'), 1):
        line = line.strip()
        if not line:
            continue
        rec = json.loads(line)
        conn = rec['conn']
        books = conns.setdefault(conn, {})
        frame = rec['data']
        if isinstance(frame, str):
            try:
                frame = json.loads(frame)
            except ValueError:
                continue
        if not isinstance(frame, dict) or not str(frame.get('topic', '')).startswith('orderbook.'):
            continue
        _, depth, symbol = frame['topic'].split('.', 2)
        if not depth.isdigit():  # orderbook.full.* is delta-only, initialised over REST: not covered
            continue
        if frame.get('data', {}).get('s', symbol) != symbol:
            raise ValueError(f'line {n}: topic {frame["topic"]} carries symbol {frame["data"]["s"]}')
        if conn not in categories:
            categories[conn] = category_of(conn, frame, symbol)
        b = books.get(symbol)
        if b is None:
            b = books[symbol] = Book(conn, categories[conn], symbol, int(depth))
        b.depth = int(depth)
        b.on_message(frame)
        yield ts_text(line), b, conns


def ts_text(line):
    """The "ts" member of a JSON-lines line as written (digits[.digits])."""
    ts = json.loads(line, parse_float=str, parse_int=str)['ts']
    if not isinstance(ts, str):
        raise ValueError(f'"ts" is not a number: {line[:80]!r}')
    return ts


def audit(books, out=sys.stderr):
    totals = [0] * 7
    for b in books:
        row = [b.messages, b.snapshot_messages, b.delta_messages, b.not_contiguous, b.seq_not_increasing,
               b.off_depth, b.crossed]
        totals = [t + r for t, r in zip(totals, row)]
        print(f'{b.conn} {VENUES[b.category]} {b.symbol} depth {b.depth}: {row[0]} messages, {row[1]} snapshots, '
              f'{row[2]} deltas, {row[3]} deltas not contiguous, {row[4]} seq not increasing, '
              f'{row[5]} applied messages leaving a side off depth, {row[6]} crossed; '
              f'{b.state}, sequence {b.sequence}', file=out)
    print(f'{len(books)} books: {totals[0]} messages, {totals[1]} snapshots, {totals[2]} deltas, '
          f'{totals[3]} deltas not contiguous, {totals[4]} seq not increasing, {totals[5]} off depth, '
          f'{totals[6]} crossed', file=out)


def main(path, categories=None):
    return [b.report() for b in replay(path, categories)]


def parse_categories(items):
    out = {}
    for item in items or []:
        conn, _, cat = item.rpartition('=')
        if not conn or cat not in VENUES:
            raise SystemExit(f'--category {item}: want CONN=spot|linear|inverse')
        out[conn] = cat
    return out


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    ap.add_argument('capture')
    ap.add_argument('--category', action='append', metavar='CONN=spot|linear|inverse',
                    help="a connection's category, when its frames cannot tell it")
    args = ap.parse_args()
    try:
        books = replay(args.capture, parse_categories(args.category))
    except ValueError as e:
        raise SystemExit(f'bybit_reference: {e}')
    audit(books)
    json.dump({'books': [b.report() for b in books]}, sys.stdout, indent=1)
    print()

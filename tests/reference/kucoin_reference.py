#!/usr/bin/env python3
"""Independent reference for KuCoin spot level2 recordings in cryptofeed raw-data format.

Merges the WebSocket file and its REST file by recorded time and calibrates every symbol
the way KuCoin documents it (PROTOCOLS.md 2.4), with Python's decimal.Decimal and no code
shared with obr: buffer l2update deltas until the symbol's REST snapshot, drop deltas with
sequenceEnd <= snapshot sequence, require the first applied delta to start at or before
sequence+1, then require sequenceStart == last+1; per entry skip sequence <= the book's,
ignore price 0, delete size 0. Prints counts, the last sequence and the final top-10
books (decimal text without trailing zeros) as JSON. Produces
tests/data/kucoin/KUCOIN.expected.json:

    python3 tests/reference/kucoin_reference.py tests/data/kucoin/KUCOIN.ws.1.0 tests/data/kucoin/KUCOIN.http.0.0
"""
import json
import sys
from decimal import Decimal


def text(d):
    s = format(d.normalize(), 'f')
    return s


def events(ws_path, http_path):
    out = []
    for n, line in enumerate(open(ws_path, encoding='utf-8')):
        line = line.strip()
        if line and line[0].isdigit():
            ts, frame = line.split(': ', 1)
            out.append((Decimal(ts), 0, n, 'ws', None, frame))
    for n, line in enumerate(open(http_path, encoding='utf-8')):
        line = line.strip()
        if ' -> ' in line:
            url, rest = line.split(' -> ', 1)
            ts, body = rest.split(': ', 1)
            out.append((Decimal(ts), 1, n, 'http', url, body))
    return sorted(out, key=lambda e: (e[0], e[1], e[2]))


def steps(ws_path, http_path):
    """Replays the recording; yields (recorded time text, symbol, books) after every REST
    snapshot and every l2update (books: symbol -> book, in first-seen order; the same dict
    each time, changed in place)."""
    books = {}

    def book(sym):
        return books.setdefault(sym, {'bids': {}, 'asks': {}, 'seq': None, 'buffer': [], 'live': False,
                                      'snapshots': 0, 'updates': 0, 'passed': 0, 'failed': 0})

    def apply(b, msg, floor):
        for side in ('asks', 'bids'):
            for price, size, seq in msg['changes'].get(side, []):
                if int(seq) <= floor:
                    continue
                p, q = Decimal(price), Decimal(size)
                if p == 0:
                    continue
                if q == 0:
                    b[side].pop(p, None)
                else:
                    b[side][p] = q

    for ts, _, _, kind, url, payload in events(ws_path, http_path):
        msg = json.loads(payload)
        if kind == 'http':
            sym = url.split('symbol=')[1]
            data = msg['data']
            b = book(sym)
            b['bids'] = {Decimal(p): Decimal(q) for p, q in data['bids']}
            b['asks'] = {Decimal(p): Decimal(q) for p, q in data['asks']}
            b['seq'] = int(data['sequence'])
            b['snapshots'] += 1
            bridged = False
            for d in b['buffer']:
                start, end = int(d['sequenceStart']), int(d['sequenceEnd'])
                if end <= b['seq']:
                    continue
                ok = start <= b['seq'] + 1 if not bridged else start == b['seq'] + 1
                if not ok:
                    raise SystemExit(f'{sym}: snapshot does not line up with the buffer')
                apply(b, d, b['seq'])
                b['seq'] = end
                bridged = True
                b['updates'] += 1
                b['passed'] += 1
            b['buffer'] = []
            b['live'] = True
            b['bridged'] = bridged
            yield str(ts), sym, books
            continue
        if msg.get('subject') != 'trade.l2update':
            continue
        d = msg['data']
        b = book(d['symbol'])
        if not b['live']:
            b['buffer'].append(d)
            yield str(ts), d['symbol'], books
            continue
        start, end = int(d['sequenceStart']), int(d['sequenceEnd'])
        if end <= b['seq']:
            continue
        ok = start == b['seq'] + 1 if b['bridged'] else start <= b['seq'] + 1
        if not ok:
            b['failed'] += 1
            b['live'] = False
            yield str(ts), d['symbol'], books
            continue
        apply(b, d, b['seq'])
        b['seq'] = end
        b['bridged'] = True
        b['updates'] += 1
        b['passed'] += 1
        yield str(ts), d['symbol'], books


def top(b, side, n=10):
    """The book's top n levels of a side, best first, as [price, size] decimal text without
    trailing zeros."""
    return [[text(p), text(b[side][p])] for p in sorted(b[side], reverse=side == 'bids')[:n]]


def main(ws_path, http_path):
    books = {}
    for _, _, books in steps(ws_path, http_path):
        pass
    out = []
    for sym, b in books.items():
        out.append({'symbol': sym, 'state': 'live' if b['live'] else 'not live', 'snapshots': b['snapshots'],
                    'updates': b['updates'], 'checks_passed': b['passed'], 'checks_failed': b['failed'],
                    'sequence': b['seq'], 'bids': top(b, 'bids'), 'asks': top(b, 'asks')})
    json.dump({'books': out}, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])

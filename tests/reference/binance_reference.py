#!/usr/bin/env python3
"""Independent reference for Binance spot diff-depth recordings in cryptofeed raw-data format.

Merges the WebSocket file and its REST file by recorded time and bridges every symbol the
way Binance documents it ("How to manage a local order book correctly", spot), with Python's
decimal.Decimal and no code shared with obr: buffer the symbol's depthUpdate events until its
REST snapshot; drop buffered events with u <= lastUpdateId; the first kept event must have
U <= lastUpdateId + 1 (else the snapshot is older than the stream: an error here, the
recording has none); then every event needs U == previous u + 1, an event with u <= the
book's id is skipped, anything else is a gap (counted; the book stops until a snapshot).
Quantity 0 removes the level. Prints counts, the last u and the final top-10 books (the
venue's own text: Binance writes fixed decimals per symbol) as JSON. Produces
tests/data/binance/BINANCE.expected.json:

    python3 tests/reference/binance_reference.py tests/data/binance/BINANCE.ws.1.0 tests/data/binance/BINANCE.http.0.0
"""
import json
import sys
from decimal import Decimal


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


def main(ws_path, http_path):
    books = {}

    def book(sym):
        return books.setdefault(sym, {'bids': {}, 'asks': {}, 'id': None, 'buffer': [], 'live': False,
                                      'bridged': False, 'snapshots': 0, 'updates': 0, 'passed': 0, 'failed': 0})

    def apply(b, ev):
        for side, key in (('bids', 'b'), ('asks', 'a')):
            for price, qty in ev[key]:
                if Decimal(qty) == 0:
                    b[side].pop(Decimal(price), None)
                else:
                    b[side][Decimal(price)] = (price, qty)

    def update(b, ev):
        """The update procedure; False on a gap."""
        first, last = int(ev['U']), int(ev['u'])
        if last <= b['id']:
            return True
        if (first != b['id'] + 1) if b['bridged'] else (first > b['id'] + 1):
            return False
        apply(b, ev)
        b['id'] = last
        b['bridged'] = True
        b['updates'] += 1
        b['passed'] += 1
        return True

    for _, _, _, kind, url, payload in events(ws_path, http_path):
        msg = json.loads(payload)
        if kind == 'http':
            if '/api/v3/depth' not in url:
                continue
            sym = url.split('symbol=')[1].split('&')[0]
            b = book(sym)
            b['bids'] = {Decimal(p): (p, q) for p, q in msg['bids']}
            b['asks'] = {Decimal(p): (p, q) for p, q in msg['asks']}
            b['id'] = int(msg['lastUpdateId'])
            b['bridged'] = False
            b['snapshots'] += 1
            for ev in b['buffer']:
                if not update(b, ev):
                    raise SystemExit(f'{sym}: the snapshot does not line up with the buffered events')
            b['buffer'] = []
            b['live'] = True
            continue
        stream = msg.get('stream', '')
        if '@depth' not in stream or stream.split('@depth', 1)[1][:1] not in ('', '@'):
            continue
        ev = msg['data']
        b = book(ev['s'])
        if not b['live']:
            b['buffer'].append(ev)
            continue
        if not update(b, ev):
            b['failed'] += 1
            b['live'] = False
            b['buffer'] = [ev]
    out = []
    for sym, b in books.items():
        def top(side, rev):
            return [[b[side][p][0], b[side][p][1]] for p in sorted(b[side], reverse=rev)[:10]]
        out.append({'symbol': sym, 'state': 'live' if b['live'] else 'not live', 'snapshots': b['snapshots'],
                    'updates': b['updates'], 'checks_passed': b['passed'], 'checks_failed': b['failed'],
                    'sequence': b['id'], 'bids': top('bids', True), 'asks': top('asks', False)})
    json.dump({'books': out}, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])

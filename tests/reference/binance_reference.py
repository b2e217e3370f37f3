#!/usr/bin/env python3
"""Independent reference for Binance diff-depth captures in cryptofeed raw-data format.

Merges the WebSocket file and its REST file by recorded time and keeps every symbol's book
the way Binance documents it, with Python's decimal.Decimal and no code shared with obr
(docs/venues/binance.md gives each rule its source):

- spot (`stream.binance.com`): buffer the symbol's depthUpdate events until a REST
  snapshot; drop buffered events with u <= lastUpdateId; the first kept event must have
  U <= lastUpdateId + 1, then every event needs U == previous u + 1;
- USD-M (`fstream.binance.com`): drop events with u < lastUpdateId; the first kept event
  must have U <= lastUpdateId <= u, then every event needs pu == previous u;
- an event whose u is at or below the book's id is skipped (not a failure); anything else
  is a gap;
- a snapshot that does not line up with the buffer (older than its first kept event, or a
  hole inside it) leaves the book waiting for the next snapshot, keeping the buffered events
  from the one that did not fit (a hole after the first applied event counts as a gap);
- a gap on a live book counts a failed check and a resync; the book waits for the next
  snapshot, buffering from the event that gapped; its levels stay as they were;
- a snapshot that arrives while the book is live replaces it when newer than the book's id,
  and is ignored otherwise;
- quantity 0 removes the level.

Prints, per symbol: state, counters, the last applied id and the final top-10 books (the
venue's own text: Binance writes fixed decimals per symbol) as JSON. Produces
tests/data/binance/BINANCE.expected.json and the expected files of the generated sessions
(tests/reference/binance_sessions.py):

    python3 tests/reference/binance_reference.py tests/data/binance/BINANCE.ws.1.0 tests/data/binance/BINANCE.http.0.0
"""
import json
import sys
from decimal import Decimal


def events(ws_path, http_path):
    out = []
    url = ''
    for n, line in enumerate(open(ws_path, encoding='utf-8')):
        line = line.strip()
        if ' <-> ' in line and not url:
            url = line.split(' <-> ', 1)[0]
        elif line and line[0].isdigit():
            ts, frame = line.split(': ', 1)
            out.append((Decimal(ts), 0, n, 'ws', None, frame))
    for n, line in enumerate(open(http_path, encoding='utf-8')):
        line = line.strip()
        if ' -> ' in line:
            u, rest = line.split(' -> ', 1)
            ts, body = rest.split(': ', 1)
            out.append((Decimal(ts), 1, n, 'http', u, body))
    return 'fstream.binance' in url, sorted(out, key=lambda e: (e[0], e[1], e[2]))


def steps(ws_path, http_path):
    """Replays the recording; yields (recorded time text, symbol, books) after every REST
    snapshot and every depthUpdate (books: symbol -> book, in first-seen order; the same
    dict each time, changed in place)."""
    futures, merged = events(ws_path, http_path)
    books = {}

    def book(sym):
        return books.setdefault(sym, {'bids': {}, 'asks': {}, 'id': None, 'buffer': [], 'state': 'awaiting_snapshot',
                                      'bridged': False, 'snapshots': 0, 'updates': 0, 'passed': 0, 'failed': 0,
                                      'resyncs': 0})

    def apply(b, ev):
        for side, key in (('bids', 'b'), ('asks', 'a')):
            for price, qty in ev[key]:
                if Decimal(qty) == 0:
                    b[side].pop(Decimal(price), None)
                else:
                    b[side][Decimal(price)] = (price, qty)

    def classify(b, ev):
        first, last = int(ev['U']), int(ev['u'])
        if futures:
            if not b['bridged']:
                if last < b['id']:
                    return 'stale'
                return 'in order' if first <= b['id'] else 'gap'
            if int(ev['pu']) == b['id']:
                return 'in order'
            return 'stale' if last <= b['id'] else 'gap'
        if last <= b['id']:
            return 'stale'
        if b['bridged']:
            return 'in order' if first == b['id'] + 1 else 'gap'
        return 'in order' if first <= b['id'] + 1 else 'gap'

    def update(b, ev):
        verdict = classify(b, ev)
        if verdict == 'in order':
            apply(b, ev)
            b['id'] = int(ev['u'])
            b['bridged'] = True
            b['updates'] += 1
            b['passed'] += 1
        return verdict

    def load(b, msg):
        b['bids'] = {Decimal(p): (p, q) for p, q in msg['bids']}
        b['asks'] = {Decimal(p): (p, q) for p, q in msg['asks']}
        b['id'] = int(msg['lastUpdateId'])
        b['bridged'] = False
        b['snapshots'] += 1

    for ts, _, _, kind, url, payload in merged:
        msg = json.loads(payload)
        if kind == 'http':
            if '/api/v3/depth' not in url and '/fapi/v1/depth' not in url:
                continue
            sym = url.split('symbol=')[1].split('&')[0]
            b = book(sym)
            if b['state'] == 'live':
                if int(msg['lastUpdateId']) > b['id']:
                    load(b, msg)
                yield str(ts), sym, books
                continue
            load(b, msg)
            for i, ev in enumerate(b['buffer']):
                if update(b, ev) == 'gap':
                    if b['bridged']:
                        b['failed'] += 1
                    b['buffer'] = b['buffer'][i:]
                    b['bids'], b['asks'], b['id'] = {}, {}, None
                    b['state'] = 'resyncing'
                    break
            else:
                b['buffer'] = []
                b['state'] = 'live'
            yield str(ts), sym, books
            continue
        stream = msg.get('stream', '')
        if '@depth' not in stream or stream.split('@depth', 1)[1][:1] not in ('', '@'):
            continue
        ev = msg['data']
        b = book(ev['s'])
        if b['state'] != 'live':
            b['buffer'].append(ev)
        elif update(b, ev) == 'gap':
            b['failed'] += 1
            b['resyncs'] += 1
            b['state'] = 'resyncing'
            b['id'] = None
            b['buffer'] = [ev]
        yield str(ts), ev['s'], books


def top(b, side, n=10):
    """The book's top n levels of a side, best first, as [price, qty] in the venue's text."""
    return [list(b[side][p]) for p in sorted(b[side], reverse=side == 'bids')[:n]]


def main(ws_path, http_path):
    books = {}
    for _, _, books in steps(ws_path, http_path):
        pass
    out = []
    for sym, b in books.items():
        out.append({'symbol': sym, 'state': b['state'], 'snapshots': b['snapshots'], 'updates': b['updates'],
                    'checks_passed': b['passed'], 'checks_failed': b['failed'], 'resyncs_requested': b['resyncs'],
                    'sequence': b['id'] if b['id'] is not None else -1, 'bids': top(b, 'bids'),
                    'asks': top(b, 'asks')})
    return out


if __name__ == '__main__':
    json.dump({'books': main(sys.argv[1], sys.argv[2])}, sys.stdout, indent=1)
    print()

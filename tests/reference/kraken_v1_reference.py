#!/usr/bin/env python3
"""Independent reference for Kraken v1 book recordings in cryptofeed raw-data format.

Replays the received frames ("TS: FRAME" lines) with Python's decimal.Decimal and
zlib.crc32 (no code shared with obr), applying Kraken's documented v1 rules: `as`/`bs`
snapshot (no checksum), `a`/`b` updates in array order with the checksum `"c"`,
truncation to the subscribed depth, CRC32 over the top 10 asks then the top 10 bids with
the point and leading zeros removed from each price and volume string. Prints the counts
and the final top-10 books as JSON. Produces tests/data/kraken-v1/*.expected.json:

    python3 tests/reference/kraken_v1_reference.py tests/data/kraken-v1/KRAKEN.ws.50.0
"""
import json
import sys
import zlib
from decimal import Decimal


def digits(lexeme):
    return lexeme.replace('.', '').lstrip('0')


def places(lexeme):
    return len(lexeme.split('.')[1]) if '.' in lexeme else 0


def steps(path):
    """Replays the recording at path; yields (recorded time text, pair, books, depth) after
    every book frame that reached a book (books: pair -> book, in first-seen order; depth:
    pair -> subscribed depth)."""
    books = {}
    depth = {}
    for line in open(path, encoding='utf-8'):
        line = line.strip()
        if not line or not line[0].isdigit():
            continue  # connects and frames we sent
        ts, frame = line.split(': ', 1)
        msg = json.loads(frame)
        if isinstance(msg, dict):
            if msg.get('event') == 'subscriptionStatus' and msg.get('status') == 'subscribed':
                depth[msg['pair']] = int(msg['subscription']['depth'])
            continue
        name, pair = msg[-2], msg[-1]
        if not name.startswith('book-'):
            continue
        if on_book_frame(books, depth, pair, msg[1:-2]):
            yield ts, pair, books, depth


def on_book_frame(books, depth, pair, parts):
    """Applies one book frame's parts to the pair's book; False when it reached no book."""
    d = depth.get(pair, 10)
    if 'as' in parts[0] or 'bs' in parts[0]:
        b = {'bids': {}, 'asks': {}, 'live': True, 'snapshots': 1, 'updates': 0, 'passed': 0, 'failed': 0,
             'pp': 0, 'qp': 0}
        old = books.get(pair)
        if old:
            for k in ('snapshots', 'updates', 'passed', 'failed'):
                b[k] = old[k] + (1 if k == 'snapshots' else 0)
        for side, key in (('bids', 'bs'), ('asks', 'as')):
            for p, q, *_ in parts[0].get(key, []):
                b['pp'] = max(b['pp'], places(p))
                b['qp'] = max(b['qp'], places(q))
                b[side][Decimal(p)] = Decimal(q)
        books[pair] = b
    else:
        b = books.get(pair)
        if not b or not b['live']:
            return False
        wire = None
        for part in parts:
            for side, key in (('bids', 'b'), ('asks', 'a')):
                for p, q, *_ in part.get(key, []):
                    if Decimal(q) == 0:
                        b[side].pop(Decimal(p), None)
                    else:
                        b[side][Decimal(p)] = Decimal(q)
            if 'c' in part:
                wire = int(part['c'])
        b['updates'] += 1
    for side, rev in (('bids', True), ('asks', False)):
        keep = sorted(b[side], reverse=rev)[:d]
        b[side] = {p: b[side][p] for p in keep}
    if 'as' in parts[0] or 'bs' in parts[0]:
        return True  # "there is no checksum on the snapshot"
    text = ''
    for side, rev in (('asks', False), ('bids', True)):
        for p in sorted(b[side], reverse=rev)[:10]:
            text += digits(f"{p:.{b['pp']}f}") + digits(f"{b[side][p]:.{b['qp']}f}")
    if zlib.crc32(text.encode()) == wire:
        b['passed'] += 1
    else:
        b['failed'] += 1
        b['live'] = False
    return True


def top(b, side, n=10):
    """The book's top n levels of a side, best first, as [price, volume] text (the places
    the snapshot wrote)."""
    return [[f"{p:.{b['pp']}f}", f"{b[side][p]:.{b['qp']}f}"]
            for p in sorted(b[side], reverse=side == 'bids')[:n]]


def main(path):
    books, depth = {}, {}
    for _, _, books, depth in steps(path):
        pass
    out = []
    for pair, b in books.items():
        out.append({'symbol': pair, 'depth': depth.get(pair, 10), 'snapshots': b['snapshots'],
                    'updates': b['updates'], 'checks_passed': b['passed'], 'checks_failed': b['failed'],
                    'bids': top(b, 'bids'), 'asks': top(b, 'asks')})
    json.dump({'books': out}, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main(sys.argv[1])

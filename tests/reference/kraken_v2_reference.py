#!/usr/bin/env python3
"""Independent reference for Kraken v2 book recordings (one JSON frame per line).

Replays a raw capture with Python's decimal.Decimal and zlib.crc32 (no code shared with
obr), applying Kraken's documented rules: numbers taken from their lexemes, entries in
array order, truncation to the subscribed depth, CRC32 over the top 10. Prints the counts
and the final top-10 book as JSON. Used to produce tests/data/kraken-v2/*.expected.json:

    python3 tests/reference/kraken_v2_reference.py tests/data/kraken-v2/btcusd_d25.ndjson
"""
import json
import sys
import zlib
from decimal import Decimal


def digits(lexeme):
    return lexeme.replace('.', '').lstrip('0')


def main(path):
    books = {}
    depth = {}
    for line in open(path, encoding='utf-8'):
        line = line.strip()
        if not line:
            continue
        # Keep the number lexemes: parse floats as strings.
        msg = json.loads(line, parse_float=str, parse_int=str)
        if msg.get('method') == 'subscribe' and msg.get('success') is True:
            depth[msg['result']['symbol']] = int(msg['result']['depth'])
            books.setdefault(msg['result']['symbol'], None)
            continue
        if msg.get('method') == 'unsubscribe' and msg.get('success') is True:
            b = books.get(msg['result']['symbol'])
            if b:
                b['live'] = False
            continue
        if msg.get('channel') != 'book':
            continue
        for entry in msg['data']:
            sym = entry['symbol']
            d = depth.get(sym, 10)
            if msg['type'] == 'snapshot':
                b = {'bids': {}, 'asks': {}, 'live': True, 'snapshots': 0, 'updates': 0, 'passed': 0, 'failed': 0,
                     'pp': 0, 'qp': 0}
                old = books.get(sym)
                if old:
                    for k in ('snapshots', 'updates', 'passed', 'failed'):
                        b[k] = old[k]
                for side in ('bids', 'asks'):
                    for lvl in entry[side]:
                        b['pp'] = max(b['pp'], len(lvl['price'].split('.')[1]) if '.' in lvl['price'] else 0)
                        b['qp'] = max(b['qp'], len(lvl['qty'].split('.')[1]) if '.' in lvl['qty'] else 0)
                        b[side][Decimal(lvl['price'])] = Decimal(lvl['qty'])
                b['snapshots'] += 1
                books[sym] = b
            else:
                b = books.get(sym)
                if not b or not b['live']:
                    continue
                for side in ('bids', 'asks'):
                    for lvl in entry.get(side, []):
                        p, q = Decimal(lvl['price']), Decimal(lvl['qty'])
                        if q == 0:
                            b[side].pop(p, None)
                        else:
                            b[side][p] = q
                b['updates'] += 1
            for side, rev in (('bids', True), ('asks', False)):
                keep = sorted(b[side], reverse=rev)[:d]
                b[side] = {p: b[side][p] for p in keep}
            fmt = lambda v, n: f'{v:.{n}f}'
            text = ''
            for side, rev in (('asks', False), ('bids', True)):
                for p in sorted(b[side], reverse=rev)[:10]:
                    text += digits(fmt(p, b['pp'])) + digits(fmt(b[side][p], b['qp']))
            if zlib.crc32(text.encode()) == int(entry['checksum']):
                b['passed'] += 1
            else:
                b['failed'] += 1
                b['live'] = False
    out = []
    for sym, b in books.items():
        if not b:
            continue
        top = lambda side, rev: [[f"{p:.{b['pp']}f}", f"{b[side][p]:.{b['qp']}f}"]
                                 for p in sorted(b[side], reverse=rev)[:10]]
        out.append({'symbol': sym, 'snapshots': b['snapshots'], 'updates': b['updates'],
                    'checks_passed': b['passed'], 'checks_failed': b['failed'],
                    'bids': top('bids', True), 'asks': top('asks', False)})
    json.dump({'books': out}, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main(sys.argv[1])

#!/usr/bin/env python3
"""Independent reference for OKX v5 order-book captures (`books`, `books5`, `books50-l2-tbt`,
`books-l2-tbt`).

Reads a capture in cryptofeed raw-data format (one connection per file: `URL <-> TS` a
connect, `URL <- TS: FRAME` a frame sent, `TS: FRAME` a frame received), or a JSON-lines
capture, one object per line {"conn": NAME, "ts": RECEIVE_SECONDS, "data": FRAME} with the
frame as a JSON string (several connections interleaved), and keeps the books the way the
agreed OKX behaviour says (PROTOCOLS.md section 5), with Python's decimal.Decimal and
zlib.crc32 and no code shared with obr:

- a book is one instId on one connection, first seen at its first push (a book whose
  pushes are all updates stays awaiting_snapshot with nothing counted);
- a snapshot (action "snapshot", or any books5 push, which has no action) replaces the
  book: snapshots += 1, sequence = seqId when present; its checksum, when present and not
  0, is checked: a match is a passed check and the book goes live, a mismatch is a failed
  check (checks_failed += 1, resyncs_requested += 1, state resyncing); checksum 0 or
  absent checks nothing and the book goes live;
- an update (action "update") on a live book:
  - with a seqId: prevSeqId must equal the book's last seqId (-1 when the book holds
    none). This admits the documented no-change message (prevSeqId == seqId, empty sides)
    and the sequence reset (seqId < prevSeqId). Anything else (a duplicate, the early frame
    of a reorder, a gap) is a failed check: nothing is applied, sequence is kept;
  - then the levels are applied: size 0 deletes (a price the book does not hold is a
    no-op), any other size sets the level (inserting a new price);
  - then the checksum, when present and not 0: CRC32 of the top 25 of each side
    interleaved bid1px:bid1sz:ask1px:ask1sz:bid2px:... (a shorter side just ends), the
    numbers as OKX wrote them, as a signed 32-bit integer. A mismatch is a failed check;
    the levels stay applied, the book stops being live;
  - counters: updates += 1 and sequence = seqId (when present) once the levels are applied
    (so also for an update whose checksum then fails); checks_passed += 1 when the update
    carried at least one check (a seqId or a non-zero checksum) and all passed; a failed
    check counts checks_failed += 1 and resyncs_requested += 1 once per message;
- an update on a book that is not live is ignored (no counter changes);
- frames that are not book pushes (subscribe answers, errors, tickers, trades, `pong`)
  are skipped.

Writes {"books": [...]} as JSON (indent 1) to stdout, books in the order first seen (for a
JSON-lines capture: per connection, connections in the order their first line appears,
each book led by a "conn" field): symbol (the instId), state, snapshots, updates,
checks_passed, checks_failed, resyncs_requested, sequence (the last applied seqId, -1 when
there is none, as in the 2022 recordings) and the top 10 bids (highest first) and asks
(lowest first) as [price, size] strings exactly as OKX wrote them (no trailing zeros).

Prints an audit to stderr: per book the pushes, snapshots, updates, checksums verified and
failed, seqIds verified and failed, no-change messages, sequence resets, and applied
messages after which the book is crossed. Before reading, it checks its CRC against the
two checksum strings of OKX's documentation.

Produces tests/data/okx/OKX.ws.1.0.expected.json (3 books, 290 checksums: 3 snapshots and
287 updates, all valid) and the expected files of the generated sessions
(tests/reference/okx_sessions.py):

    python3 tests/reference/okx_reference.py tests/data/okx/OKX.ws.1.0 \\
        > tests/data/okx/OKX.ws.1.0.expected.json
"""
import json
import sys
import zlib
from decimal import Decimal

DOC_CHECKSUMS = {  # OKX-doc's checksum strings and their signed CRC32 (PROTOCOLS.md section 5)
    '3366.1:7:3366.8:9:3366:6:3368:8': -1881014294,
    '3366.1:7:3366.8:9:3368:8:3372:8': 831078360,
}


def signed_crc32(text):
    c = zlib.crc32(text.encode('ascii'))
    return c - (1 << 32) if c >= 1 << 31 else c


def self_check():
    for text, want in DOC_CHECKSUMS.items():
        got = signed_crc32(text)
        if got != want:
            raise AssertionError(f'self-check: crc32({text!r}) = {got}, the documentation says {want}')


def checksum_text(bids, asks):
    """bids, asks: [(price text, size text)], best first; the top 25 of each, interleaved."""
    parts = []
    for i in range(25):
        if i < len(bids):
            parts += bids[i]
        if i < len(asks):
            parts += asks[i]
    return ':'.join(parts)


class Book:
    def __init__(self, conn, inst_id):
        self.conn, self.inst_id = conn, inst_id
        self.bids, self.asks = {}, {}  # Decimal price -> (price text, size text)
        self.state = 'awaiting_snapshot'
        self.snapshots = self.updates = self.passed = self.failed = self.resyncs = 0
        self.sequence = None
        # the audit (stderr only)
        self.pushes = self.snapshot_pushes = self.update_pushes = 0
        self.crc_ok = self.crc_bad = self.seq_ok = self.seq_bad = 0
        self.no_change = self.resets = self.crossed = 0

    def side_levels(self, side, n=None):
        keys = sorted(side, reverse=side is self.bids)
        return [side[p] for p in (keys if n is None else keys[:n])]

    def checksum(self):
        return signed_crc32(checksum_text(self.side_levels(self.bids, 25), self.side_levels(self.asks, 25)))

    def check_crc(self, data):
        """None when the message carries no checksum (absent or 0), else whether it matches."""
        want = data.get('checksum')
        if want is None or int(want) == 0:
            return None
        ok = self.checksum() == int(want)
        if ok:
            self.crc_ok += 1
        else:
            self.crc_bad += 1
        return ok

    def fail(self):
        self.failed += 1
        self.resyncs += 1
        self.state = 'resyncing'

    def after_apply(self):
        if self.bids and self.asks and max(self.bids) >= min(self.asks):
            self.crossed += 1

    def on_snapshot(self, data):
        self.snapshot_pushes += 1
        self.bids, self.asks = {}, {}
        for side, key in ((self.bids, 'bids'), (self.asks, 'asks')):
            for lvl in data.get(key, []):
                if Decimal(lvl[1]) != 0:
                    side[Decimal(lvl[0])] = (lvl[0], lvl[1])
        self.snapshots += 1
        if 'seqId' in data:
            self.sequence = int(data['seqId'])
        self.after_apply()
        ok = self.check_crc(data)
        if ok is False:
            self.fail()
            return
        if ok:
            self.passed += 1
        self.state = 'live'

    def on_update(self, data):
        self.update_pushes += 1
        if self.state != 'live':
            return
        checked = False
        if 'seqId' in data:
            seq, prev = int(data['seqId']), int(data['prevSeqId'])
            if prev != (self.sequence if self.sequence is not None else -1):
                self.seq_bad += 1
                self.fail()
                return
            self.seq_ok += 1
            checked = True
            if seq == prev:
                self.no_change += 1
            elif seq < prev:
                self.resets += 1
        for side, key in ((self.bids, 'bids'), (self.asks, 'asks')):
            for lvl in data.get(key, []):
                if Decimal(lvl[1]) == 0:
                    side.pop(Decimal(lvl[0]), None)
                else:
                    side[Decimal(lvl[0])] = (lvl[0], lvl[1])
        self.updates += 1
        if 'seqId' in data:
            self.sequence = int(data['seqId'])
        self.after_apply()
        ok = self.check_crc(data)
        if ok is False:
            self.fail()
            return
        if ok or checked:
            self.passed += 1

    def on_push(self, msg):
        self.pushes += 1
        channel = msg['arg']['channel']
        for data in msg['data']:
            if channel == 'books5' or msg.get('action') == 'snapshot':
                self.on_snapshot(data)
            elif msg.get('action') == 'update':
                self.on_update(data)
            else:
                raise ValueError(f'{self.conn} {self.inst_id}: push with action {msg.get("action")!r}')

    def levels(self, n=10):
        """Top n (all when n is None) bids and asks as [price, size] text, as reported."""
        return ([list(l) for l in self.side_levels(self.bids, n)],
                [list(l) for l in self.side_levels(self.asks, n)])

    def report(self, with_conn=False):
        bids, asks = self.levels()
        out = {'conn': self.conn} if with_conn else {}
        out.update({'symbol': self.inst_id, 'state': self.state, 'snapshots': self.snapshots,
                    'updates': self.updates, 'checks_passed': self.passed, 'checks_failed': self.failed,
                    'resyncs_requested': self.resyncs,
                    'sequence': self.sequence if self.sequence is not None else -1, 'bids': bids, 'asks': asks})
        return out


def frames(path):
    """Yields (conn, recorded time text, received frame text) in file order; conn is None for a
    cryptofeed file.
    Also returns whether the capture is JSON lines (as the generator's return value)."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    first = next((l for l in lines if l.strip()), '')
    json_lines = first.lstrip().startswith('{')
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if json_lines:
            rec = json.loads(line)
            frame = rec['data']
            ts = json.loads(line, parse_float=str, parse_int=str)['ts']
            yield rec['conn'], ts, frame if isinstance(frame, str) else json.dumps(frame)
        elif ' <-> ' in line or ' <- ' in line:
            continue  # a connect, a frame sent
        elif line[0].isdigit():
            ts, frame = line.split(': ', 1)
            yield None, ts, frame
        else:
            raise ValueError(f'{path}: unreadable line {line[:80]!r}')
    return json_lines


def is_book_channel(channel):
    return channel == 'books5' or channel == 'books' or (channel.startswith('books') and channel.endswith('-l2-tbt'))


def replay(path):
    """Replays the capture at path; returns (books in report order, whether JSON lines)."""
    conns = {}
    gen = steps(path)
    while True:
        try:
            _, _, conns = next(gen)
        except StopIteration as stop:
            json_lines = bool(stop.value)
            break
    return [b for books in conns.values() for b in books.values()], json_lines


def steps(path):
    """Replays the capture at path; yields (recorded time text, the Book the push went to,
    conns) after every book push; conns: conn -> {instId: Book}, both in first-seen order,
    the same dict each time, changed in place. Returns whether the capture is JSON lines
    (as the generator's return value)."""
    conns = {}  # conn -> {instId: Book}, both in first-seen order
    gen = frames(path)
    while True:
        try:
            conn, ts, text = next(gen)
        except StopIteration as stop:
            return bool(stop.value)
        books = conns.setdefault(conn, {})
        try:
            msg = json.loads(text)
        except ValueError:
            continue  # `pong`
        if not isinstance(msg, dict) or 'data' not in msg or 'event' in msg:
            continue
        arg = msg.get('arg') or {}
        if not is_book_channel(str(arg.get('channel', ''))):
            continue
        inst = arg['instId']
        b = books.get(inst)
        if b is None:
            b = books[inst] = Book(conn, inst)
        b.on_push(msg)
        yield ts, b, conns


def audit(books, out=sys.stderr):
    keys = ('pushes', 'snapshot_pushes', 'update_pushes', 'crc_ok', 'crc_bad', 'seq_ok', 'seq_bad', 'no_change',
            'resets', 'crossed')
    totals = dict.fromkeys(keys, 0)
    for b in books:
        row = {k: getattr(b, k) for k in keys}
        for k in keys:
            totals[k] += row[k]
        name = f'{b.conn} {b.inst_id}' if b.conn else b.inst_id
        print(f'{name}: {row["pushes"]} pushes ({row["snapshot_pushes"]} snapshots, {row["update_pushes"]} updates); '
              f'checksums {row["crc_ok"]} verified, {row["crc_bad"]} failed; seqIds {row["seq_ok"]} verified, '
              f'{row["seq_bad"]} failed; {row["no_change"]} no-change, {row["resets"]} resets, '
              f'{row["crossed"]} crossed; {b.state}, sequence {b.sequence if b.sequence is not None else -1}',
              file=out)
    print(f'{len(books)} books: {totals["pushes"]} pushes; checksums {totals["crc_ok"]} verified, '
          f'{totals["crc_bad"]} failed; seqIds {totals["seq_ok"]} verified, {totals["seq_bad"]} failed; '
          f'{totals["crossed"]} crossed', file=out)


def main(path):
    books, json_lines = replay(path)
    return [b.report(json_lines) for b in books]


if __name__ == '__main__':
    if len(sys.argv) != 2:
        raise SystemExit('usage: okx_reference.py CAPTURE  (cryptofeed raw-data file or JSON lines)')
    self_check()
    try:
        books, json_lines = replay(sys.argv[1])
    except (ValueError, KeyError) as e:
        raise SystemExit(f'okx_reference: {e!r}')
    audit(books)
    json.dump({'books': [b.report(json_lines) for b in books]}, sys.stdout, indent=1)
    print()

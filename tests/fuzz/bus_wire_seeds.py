#!/usr/bin/env python3
"""bus_wire_seeds.py — writes the bus_wire fuzz target's seeds from a real recording.

The books of a real recording over time (`obr replay --export F.csv --on-change --levels
10`) become what an engine would publish on the bus (docs/bus.md "Messages"): a view, then
one change per row (the levels that differ from the previous row, quantity 0 for a level
gone), a snapshot, and heartbeats; each seed is a run of such records in the fuzz input's
framing (kind byte, u16 length, bytes: tests/fuzz/bus_wire_fuzz.cpp).

  obr replay --export /tmp/k.csv --on-change --levels 10 tests/data/kraken-v2/*.ndjson
  python3 tests/fuzz/bus_wire_seeds.py /tmp/k.csv tests/fuzz/seeds/bus_wire
"""
import csv
import struct
import sys
from pathlib import Path

STATES = {"subscribing": 0, "awaiting_snapshot": 1, "live": 2, "invalid": 3, "resyncing": 4, "stale": 5, "halted": 6}


def units(text, scale):
    whole, _, frac = text.partition(".")
    return int(whole + (frac + "0" * scale)[:scale])


def message(kind, state, epoch, seq, ps, qs, bids, asks):
    head = struct.pack("<4sBBBBbbHIII", b"OBRB", 1, kind, state, 0, ps, qs, 0, len(bids), len(asks), 0)
    head += struct.pack("<QQqqQ", epoch, seq, 1_700_000_000_000_000_000 + seq, 1_700_000_000_000_000_100 + seq, 0)
    return head + b"".join(struct.pack("<qq", p, q) for p, q in bids + asks)


def heartbeat(epoch, books):
    out = b"OBRH" + struct.pack("<BIQq", 1, 0, epoch, 1_700_000_000_000_000_000)
    out += struct.pack("<H", 2) + b"e1" + struct.pack("<I", len(books))
    for venue, symbol, seq in books:
        out += struct.pack("<H", len(venue)) + venue.encode() + struct.pack("<H", len(symbol)) + symbol.encode()
        out += struct.pack("<Q", seq)
    return out


def record(kind, data):
    return struct.pack("<BH", kind, len(data)) + data


def diff(before, after, bids):
    out, b, a = [], dict(before), dict(after)
    for p in sorted(set(b) | set(a), reverse=bids):
        if a.get(p, 0) != b.get(p, 0):
            out.append((p, a.get(p, 0)))
    return out


def main(csv_path, out_dir):
    rows = [r for r in csv.DictReader(open(csv_path)) if r["state"] == "live" and r["bid_price_1"]]
    books = {}
    for r in rows:
        books.setdefault((r["venue"], r["symbol"]), []).append(r)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for (venue, symbol), rs in books.items():
        pscale = max(len(r[k].partition(".")[2]) for r in rs for k in r if k.startswith(("bid_price", "ask_price")) and r[k])
        qscale = max(len(r[k].partition(".")[2]) for r in rs for k in r if k.startswith(("bid_qty", "ask_qty")) and r[k])

        def side(r, name):
            return [(units(r[f"{name}_price_{i}"], pscale), units(r[f"{name}_qty_{i}"], qscale))
                    for i in range(1, 11) if r.get(f"{name}_price_{i}")]

        epoch, seq, seed = 7, 1, b""
        prev_b, prev_a = side(rs[0], "bid"), side(rs[0], "ask")
        seed += record(0, message(3, 2, epoch, seq, pscale, qscale, prev_b, prev_a))
        for r in rs[1:65]:
            b, a = side(r, "bid"), side(r, "ask")
            db, da = diff(prev_b, b, True), diff(prev_a, a, False)
            if not db and not da:
                continue
            seq += 1
            seed += record(0, message(1, 2, epoch, seq, pscale, qscale, db, da))
            prev_b, prev_a = b, a
        seed += record(1, message(4, 2, epoch, seq, pscale, qscale, prev_b, prev_a))
        seed += record(2, heartbeat(epoch, [(venue, symbol, seq)]))
        name = symbol.replace("/", "_")
        (out / f"{venue}_{name}_changes").write_bytes(seed)
        # Out of order: the changes before their snapshot (a replica buffering, then bridging).
        (out / f"{venue}_{name}_bridge").write_bytes(seed[len(record(0, message(3, 2, epoch, 1, pscale, qscale, side(rs[0], "bid"), side(rs[0], "ask")))):])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

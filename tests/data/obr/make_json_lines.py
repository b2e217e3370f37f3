#!/usr/bin/env python3
"""make_json_lines.py — writes the synthetic JSON-lines captures in tests/data/obr/ that the
`cli_replay_json_lines*` tests replay (tests/data/README.md): Kraken v2 sessions made by
`obr synth` (obr's own seeded market), wrapped one frame per line as
{"conn": NAME, "ts": SECONDS, "data": FRAME}, the connections interleaved line by line.

    python3 tests/data/obr/make_json_lines.py build/release/tools/obr
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ACKS = ['{"success":true,"ret_msg":"","conn_id":"a1","op":"subscribe"}', '{"result":null,"id":2}']


def synth(obr, frames, symbols, seed, depth):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "s.ndjson")
        subprocess.run([obr, "synth", "--out", out, "--frames", str(frames), "--symbols", str(symbols), "--seed",
                        str(seed), "--depth", str(depth)], check=True, stdout=subprocess.DEVNULL)
        with open(out, encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f if line.strip()]


def write(name, conns):
    """conns: [(conn, url or None, [frame, ...])], interleaved one line of each in turn."""
    lines, n = [], 0
    while any(conns_left for _, _, conns_left in conns):
        for conn, url, frames in conns:
            if not frames:
                continue
            obj = {"conn": conn, "ts": None, "data": frames.pop(0)}
            if url:
                obj["url"] = url
            # 7 fraction digits, as cryptofeed writes them; written as text, never a float.
            ts = "1786310819.%07d" % (n * 12345 % 10000000)
            line = json.dumps(obj, ensure_ascii=False).replace('"ts": null', '"ts": ' + ts)
            lines.append(line)
            n += 1
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main():
    obr = sys.argv[1]
    write("two_connections.jsonl", [("SYNTH.ws.1", None, synth(obr, 20, 1, 1, 10)),
                                     ("SYNTH.ws.2", "wss://ws.kraken.com/v2", synth(obr, 20, 2, 2, 25))])
    write("untold_connection.jsonl", [("SYNTH.ws.1", None, synth(obr, 10, 1, 3, 10)), ("ACKS.ws.2", None, list(ACKS))])


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# `obr replay`'s progress line: on a terminal (here a pseudo-terminal from script(1)) one
# line kept up to date on stderr with MB read of the total, frames/s and the time left,
# erased at the end; on a pipe or a file, never.
#   progress_line.sh OBR_BINARY WORK_DIR
set -euo pipefail
obr="$1"
work="$2"
rm -rf "$work" && mkdir -p "$work"
"$obr" synth --out "$work/s.ndjson" --frames 300000 >/dev/null
status=0
# A terminal: script(1) runs the command on a pseudo-terminal and copies what it writes.
script -qec "'$obr' replay --json '$work/s.ndjson' >'$work/tty.json'" /dev/null >"$work/tty.out" 2>&1 || true
python3 - "$work/tty.out" <<'PY' || status=1
import re, sys
text = open(sys.argv[1], 'rb').read().decode()
lines = re.findall(r'\r\x1b\[K([^\r]*)', text)
updates = [l for l in lines if l]
pattern = re.compile(r'^\d+\.\d of (\d+\.\d) MB \(\d+%\), \d+\.\d\d M frames/s, \d+ s left$')
if len(updates) < 3:
    sys.exit(f'progress line: expected at least 3 updates on a terminal (300 000 frames, one per 65 536 events), got {len(updates)}: {text!r}')
for u in updates:
    m = pattern.match(u)
    if not m:
        sys.exit(f'progress line: {u!r} is not "X of Y MB (P%), R M frames/s, T s left"')
    if m.group(1) != updates[0].split(' of ')[1].split(' MB')[0]:
        sys.exit(f'progress line: the total changed: {u!r}')
if lines[-1] != '':
    sys.exit(f'progress line: not erased at the end: {lines[-1]!r}')
print(f'same: {len(updates)} progress updates on a terminal, erased at the end')
PY
# A file and a pipe: nothing but the summary.
"$obr" replay --json "$work/s.ndjson" >"$work/file.json" 2>"$work/file.err"
"$obr" replay --json "$work/s.ndjson" 2>&1 | cat >"$work/pipe.out"
if [ -s "$work/file.err" ]; then echo "progress written to a file: $(head -c 200 "$work/file.err" | od -c | head -3)"; status=1; fi
if grep -q $'\r' "$work/pipe.out"; then echo "progress written to a pipe"; status=1; fi
python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$work/pipe.out" || { echo "the piped output is not the JSON summary alone"; status=1; }
[ "$status" = 0 ] && echo "same: no progress on a file or a pipe"
exit $status

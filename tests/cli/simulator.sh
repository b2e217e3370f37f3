# tests/cli/simulator.sh — sourced by the CLI tests that run the engine against `obr serve`.
#
#   . "$(dirname "$0")/simulator.sh"
#   start_simulator "$obr" "$work" 25 --fault corrupt_checksum@t=2s,symbol=BTC/USD
#   # now: $url (Kraken v2 wss://), $rest (KuCoin https://), $work/cert.pem, $server (its pid),
#   # and a trap that stops it when the script exits.
#
# start_simulator OBR WORK SECONDS [obr serve options...]: starts the simulator on a free
# port for SECONDS, waits for its certificate, reads its Kraken and KuCoin URLs; exits the
# script (status 1, the simulator's log printed) when it does not start.
start_simulator() {
  local obr="$1" work="$2" seconds="$3"
  shift 3
  "$obr" serve --port 0 --seconds "$seconds" --cert "$work/cert.pem" "$@" >"$work/serve.log" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 100); do grep -q '^certificate:' "$work/serve.log" && break; sleep 0.1; done
  url=$(sed -n 's/^kraken v2: *\(wss:[^ ]*\).*/\1/p' "$work/serve.log")
  rest=$(sed -n 's/^kucoin: *\(https:[^ ]*\).*/\1/p' "$work/serve.log")
  if [ -z "$url" ] || [ -z "$rest" ]; then
    echo "simulator did not start:"
    cat "$work/serve.log"
    exit 1
  fi
}

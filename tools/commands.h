// tools/commands.h — the obr CLI's subcommands; each returns the process exit status.
#pragma once

#include <atomic>
#include <cstdlib>

namespace obr::tools {

// parse_number reads a whole option value as a number in [lo, hi]; false for anything
// else (trailing text, NaN, out of range). Shared by the subcommands' option parsers.
inline bool parse_number(const char* text, double lo, double hi, double& out) {
  char* end = nullptr;
  out = std::strtod(text, &end);
  return end != text && *end == 0 && out >= lo && out <= hi;
}

// kExitInterrupted: the exit status of a command stopped by SIGINT or SIGTERM (128 + 2,
// as a shell reports an interrupted command); its summary so far is printed first.
inline constexpr int kExitInterrupted = 130;

// install_interrupt_handlers makes SIGINT and SIGTERM set the returned flag instead of
// ending the process, so that a command can stop cleanly, print what it has and exit
// kExitInterrupted. Call it once, from the command that polls the flag.
const std::atomic<bool>& install_interrupt_handlers();

// `obr example [FILE]`: builds a book from Kraken's worked-example snapshot and prints it
// with its checksum, verified against the snapshot's own.
int run_example(int argc, char** argv);

// `obr replay [options] FILE...`: replays recorded frames and reports every book.
int run_replay(int argc, char** argv);

// `obr serve [options]`: the exchange simulator (Kraken v2 + KuCoin) on loopback.
int run_serve(int argc, char** argv);

// `obr demo [--seconds N] [--json]`: simulator + live engine over TLS with faults; summary.
int run_demo(int argc, char** argv);

// `obr soak [options]`: the chaos soak (many symbols, random faults of every kind).
int run_soak(int argc, char** argv);

// `obr synth --out FILE`: a synthetic Kraken v2 session of any length.
int run_synth(int argc, char** argv);

// `obr record --config F --out FILE`: the live engine, recorded for `obr replay`.
int run_record(int argc, char** argv);

// `obr run --config F [--seconds N] [--json]`: the engine as a service (docs/operations.md).
int run_run(int argc, char** argv);

// `obr watch VENUE:SYMBOL...`: a live terminal ladder with state and latency.
int run_watch(int argc, char** argv);

// `obr replica --nats URL (VENUE:SYMBOL... | --all)`: books kept from the bus (docs/bus.md).
int run_replica(int argc, char** argv);

// `obr cluster-demo`: nats-server, the simulator, K engines and C replicas; an engine
// killed and the server restarted mid-run; judged against the truth (docs/bus.md).
int run_cluster_demo(int argc, char** argv);

}  // namespace obr::tools

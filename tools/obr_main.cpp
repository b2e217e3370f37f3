// obr — command-line entry point.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "tools/commands.h"

// The project version from CMakeLists.txt (tools/CMakeLists.txt defines it).
#ifndef OBR_VERSION
#error "OBR_VERSION is defined by tools/CMakeLists.txt"
#endif

namespace {

void usage(std::FILE* out) {
  std::fputs(
      "usage: obr <command> [options]\n"
      "\n"
      "commands:\n"
      "  demo             the live engine against the local exchange simulator, with faults\n"
      "  soak             the chaos soak: many symbols, random faults of every kind, judged\n"
      "                   against the simulator's truth, with memory watched\n"
      "  serve            run the exchange simulator (Kraken v2 + KuCoin) on loopback\n"
      "  replay FILE...   replay recorded frames through the venue sessions; report every book\n"
      "  run              the engine as a service: books, /health and /metrics, recording and a\n"
      "                   dead man's switch from a config file, until SIGTERM\n"
      "  record           run the live engine from a config file and record the session\n"
      "  watch BOOK...    a live ladder of books (kraken:BTC/USD kucoin:BTC-USDT) with state\n"
      "  synth --out F    write a synthetic Kraken v2 session of any length, checksums correct\n"
      "  example [FILE]   build a book from Kraken's worked-example snapshot and verify its CRC32\n"
#ifdef OBR_HAS_BUS
      "  replica BOOK...  books kept from the NATS bus that `obr run` engines publish\n"
      "  cluster-demo     nats-server, the simulator, K engines and replicas; an engine killed and\n"
      "                   the server restarted mid-run; every book judged against the truth\n"
#endif
      "  version          print obr's version (also --version)\n"
      "\n"
      "Run 'obr <command> --help' for a command's options.\n",
      out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  if (cmd == "--version" || cmd == "version") {
    std::fputs("obr " OBR_VERSION "\n", stdout);
    return 0;
  }
  if (cmd == "replay") return obr::tools::run_replay(argc - 1, argv + 1);
  if (cmd == "demo") return obr::tools::run_demo(argc - 1, argv + 1);
  if (cmd == "soak") return obr::tools::run_soak(argc - 1, argv + 1);
  if (cmd == "synth") return obr::tools::run_synth(argc - 1, argv + 1);
  if (cmd == "serve") return obr::tools::run_serve(argc - 1, argv + 1);
  if (cmd == "run") return obr::tools::run_run(argc - 1, argv + 1);
  if (cmd == "record") return obr::tools::run_record(argc - 1, argv + 1);
  if (cmd == "watch") return obr::tools::run_watch(argc - 1, argv + 1);
  if (cmd == "example") return obr::tools::run_example(argc - 1, argv + 1);
#ifdef OBR_HAS_BUS
  if (cmd == "replica") return obr::tools::run_replica(argc - 1, argv + 1);
  if (cmd == "cluster-demo") return obr::tools::run_cluster_demo(argc - 1, argv + 1);
#endif
  std::fprintf(stderr, "obr: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}

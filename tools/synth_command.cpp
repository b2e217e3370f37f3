// tools/synth_command.cpp — `obr synth`: writes a synthetic Kraken v2 session of any length
// (tools/sim/synthetic_session.h) for long replays, memory checks and benchmarks.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tools/commands.h"
#include "tools/sim/synthetic_session.h"

namespace obr::tools {
namespace {

void synth_usage(std::FILE* out) {
  std::fputs(
      "usage: obr synth --out FILE [--frames N] [--symbols K] [--seed S] [--depth D]\n"
      "\n"
      "Writes a Kraken v2 raw capture made from the seeded synthetic market: the subscribe\n"
      "acks and snapshots, then N book updates with the venue's depth semantics and correct\n"
      "checksums (gzip when FILE ends in .gz). `obr replay FILE` validates every one.\n"
      "\n"
      "  --frames N    book updates (default 100000)\n"
      "  --symbols K   symbols, 1 to 64 (default 4)\n"
      "  --seed S      market seed (default 1)\n"
      "  --depth D     subscribed depth: 10, 25, 100, 500 or 1000 (default 10)\n"
      "\n"
      "The file is written under FILE.partial and renamed to FILE when complete. SIGINT or\n"
      "SIGTERM finishes it where it stands (a valid session with fewer updates) and exits 130;\n"
      "a failed write leaves no file. Exit status: 0 written, 2 usage or write error, 130\n"
      "interrupted.\n",
      out);
}

bool parse_u64(const char* text, std::uint64_t& out) {
  char* end = nullptr;
  out = std::strtoull(text, &end, 10);
  return end != text && *end == 0 && text[0] != '-';
}

}  // namespace

int run_synth(int argc, char** argv) {
  sim::SyntheticSessionSpec spec;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      synth_usage(stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "obr synth: %s needs a value (or is unknown)\n", a.c_str());
      synth_usage(stderr);
      return 2;
    }
    const char* v = argv[++i];
    std::uint64_t n = 0;
    if (a == "--out") {
      out = v;
      continue;
    }
    if (!parse_u64(v, n)) {
      std::fprintf(stderr, "obr synth: %s '%s' is not a non-negative integer\n", a.c_str(), v);
      return 2;
    }
    if (a == "--frames")
      spec.frames = n;
    else if (a == "--symbols")
      spec.symbols = n;
    else if (a == "--seed")
      spec.seed = n;
    else if (a == "--depth")
      spec.depth = static_cast<int>(n);
    else {
      std::fprintf(stderr, "obr synth: unknown option '%s'\n", a.c_str());
      synth_usage(stderr);
      return 2;
    }
  }
  if (out.empty()) {
    std::fprintf(stderr, "obr synth: --out FILE is required\n");
    synth_usage(stderr);
    return 2;
  }
  std::uint64_t written = 0;
  std::string error;
  const std::atomic<bool>& interrupted = install_interrupt_handlers();
  spec.stop = &interrupted;
  if (!sim::write_kraken_session(out, spec, written, error)) {
    std::fprintf(stderr, "obr synth: %s\n", error.c_str());
    return 2;
  }
  std::printf("obr synth: %s: %zu symbols at depth %d, %" PRIu64 " updates (seed %" PRIu64 ")%s\n", out.c_str(),
              spec.symbols, spec.depth, written, spec.seed,
              interrupted.load() ? ", INTERRUPTED: the file is complete and valid, with fewer updates than asked" : "");
  return interrupted.load() ? kExitInterrupted : 0;
}

}  // namespace obr::tools

// tools/demo_command.cpp — `obr demo`: the simulator on loopback with a bundled market and
// fault schedule, the live engine connected to it over TLS, a live ladder, and a summary
// that says whether any wrong book was ever served (tools/scenario.h judges the run).
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "book/decimal.h"
#include "engine/engine.h"
#include "tools/commands.h"
#include "tools/scenario.h"
#include "tools/sim/faults.h"
#include "tools/sim/recorded_market.h"

namespace obr::tools {
namespace {

using book::BookState;

void demo_usage(std::FILE* out) {
  std::fputs(
      "usage: obr demo [--seconds N] [--json] [--no-tls] [--seed S] [--no-faults] [--fault SPEC]...\n"
      "                [--faults FILE] [--market FILE]... [--speed X]\n"
      "\n"
      "Starts the exchange simulator on 127.0.0.1 (Kraken v2: BTC/USD ETH/USD XRP/USD; KuCoin:\n"
      "BTC-USDT ETH-USDT SOL-USDT), connects the live engine to it over TLS (trusting the\n"
      "certificate the simulator generates), injects a schedule of faults, shows the books,\n"
      "and prints a summary.\n"
      "\n"
      "  --seconds N     run time (default 15, at least 3)\n"
      "  --json          print only the summary, as one JSON object\n"
      "  --no-tls        plain ws:// and http:// instead\n"
      "  --seed S        market seed (default 1)\n"
      "  --no-faults     no fault schedule\n"
      "  --fault SPEC    add a fault (see 'obr serve --help' for the syntax); replaces the\n"
      "                  bundled schedule\n"
      "  --faults FILE   faults from a file, one SPEC per line (# comments); replaces it too\n"
      "  --market FILE   serve a recording instead of the synthetic market (repeatable; see\n"
      "                  'obr serve --help'); the bundled schedule names synthetic books, so\n"
      "                  with --market there are no faults unless --fault/--faults give some\n"
      "  --speed X       play the --market recording at X times its recorded pace (see\n"
      "                  'obr serve --help')\n"
      "\n"
      "Exit status: 0 when every fault was detected (or, for a Kraken update dropped, duplicated\n"
      "or reordered, overwritten before any check could see it while no wrong book was shown),\n"
      "every book is live at the end and no wrong book was served; 1 otherwise, with each reason\n"
      "on stderr; 2 for usage errors (a --fault naming a venue or symbol that is not served, or\n"
      "--fault with --no-faults); 130 when interrupted (SIGINT/SIGTERM), after the summary so far.\n",
      out);
}

// The bundled schedule: every book-level and connection-level fault kind, spread over the
// run, each on a different book or connection.
std::vector<std::string> bundled_faults(double seconds) {
  const std::vector<std::string> kinds = {
      "drop@T,venue=kraken,symbol=ETH/USD",
      "corrupt_checksum@T,symbol=BTC/USD",
      "drop@T,venue=kucoin,symbol=SOL-USDT",
      "skip_sequence=3@T,symbol=BTC-USDT",
      "reorder@T,venue=kraken,symbol=XRP/USD",
      "close@T,venue=kraken",
      "reorder@T,venue=kucoin,symbol=ETH-USDT",
      "stall@T,venue=kucoin",
      "maintenance@T",
      "oversized@T,venue=kraken",
      "malformed@T,venue=kucoin",
      "duplicate@T,venue=bybit-spot,symbol=BTCUSDT",  // a gap on Bybit: only the last u + 1 follows
      "corrupt_checksum@T,venue=okx,symbol=ETH-USDT",
  };
  // Leave time at the end for the last recovery (a stall needs the 2 s watchdog).
  const double first = 1.5, last = std::max(first, seconds - 4.0);
  const std::size_t n =
      seconds >= 12 ? kinds.size() : std::max<std::size_t>(1, static_cast<std::size_t>(seconds / 1.5));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n && i < kinds.size(); ++i) {
    const double t = n == 1 ? first : first + (last - first) * static_cast<double>(i) / static_cast<double>(n - 1);
    std::string spec = kinds[i];
    char when[32];
    std::snprintf(when, sizeof when, "t=%.0fms", t * 1000);
    spec.replace(spec.find('T'), 1, when);
    out.push_back(spec);
  }
  return out;
}

void print_ladder(engine::Engine& e, double t) {
  std::printf("t=%4.1fs\n", t);
  e.for_each_book([](std::string_view venue, std::string_view symbol, const book::OrderBook& b) {
    char bid[64] = "-", ask[64] = "-";
    if (!b.bids().empty()) {
      const std::string p = book::to_decimal_string(b.bids().at(0).price, b.price_scale());
      const std::string q = book::to_decimal_string(b.bids().at(0).qty, b.qty_scale());
      std::snprintf(bid, sizeof bid, "%s x %s", q.c_str(), p.c_str());
    }
    if (!b.asks().empty()) {
      const std::string p = book::to_decimal_string(b.asks().at(0).price, b.price_scale());
      const std::string q = book::to_decimal_string(b.asks().at(0).qty, b.qty_scale());
      std::snprintf(ask, sizeof ask, "%s x %s", p.c_str(), q.c_str());
    }
    std::printf("  %-12.*s %-9.*s %-17s %32s | %-32s checks %" PRIu64 " resyncs %" PRIu64 "\n",
                static_cast<int>(venue.size()), venue.data(), static_cast<int>(symbol.size()), symbol.data(),
                std::string(book::to_string(b.state())).c_str(), bid, ask, b.counters().checks_passed,
                b.counters().resyncs_requested);
  });
  std::fflush(stdout);
}

}  // namespace

int run_demo(int argc, char** argv) {
  double seconds = 15;
  double speed = 0;  // > 0: --speed
  bool json = false, tls = true, no_faults = false;
  std::uint64_t seed = 1;
  std::vector<std::string> fault_specs;
  std::vector<std::string> market_files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "obr demo: %s needs a value\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      demo_usage(stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--no-tls") {
      tls = false;
    } else if (a == "--no-faults") {
      no_faults = true;
    } else if (a == "--seconds") {
      const char* v = value("--seconds");
      if (v == nullptr) return 2;
      if (!parse_number(v, 3, 86400, seconds)) {
        std::fprintf(stderr, "obr demo: --seconds '%s' is not a number from 3 to 86400\n", v);
        return 2;
      }
    } else if (a == "--seed") {
      const char* v = value("--seed");
      if (v == nullptr) return 2;
      seed = std::strtoull(v, nullptr, 10);
    } else if (a == "--fault") {
      const char* v = value("--fault");
      if (v == nullptr) return 2;
      fault_specs.emplace_back(v);
    } else if (a == "--faults") {
      const char* v = value("--faults");
      if (v == nullptr) return 2;
      std::string error;
      const auto fs = sim::load_faults(v, error);
      if (!fs) {
        std::fprintf(stderr, "obr demo: %s\n", error.c_str());
        return 2;
      }
      for (const auto& f : *fs) fault_specs.push_back(f.spec);
    } else if (a == "--market") {
      const char* v = value("--market");
      if (v == nullptr) return 2;
      market_files.emplace_back(v);
    } else if (a == "--speed") {
      const char* v = value("--speed");
      if (v == nullptr) return 2;
      if (!parse_number(v, 0, 1e6, speed) || !(speed > 0)) {
        std::fprintf(stderr, "obr demo: --speed '%s' is not a number in (0, 1e6]\n", v);
        return 2;
      }
    } else {
      std::fprintf(stderr, "obr demo: unknown option '%s'\n", argv[i]);
      demo_usage(stderr);
      return 2;
    }
  }
  if (no_faults && !fault_specs.empty()) {
    std::fprintf(stderr, "obr demo: --no-faults and --fault/--faults contradict each other: give one\n");
    return 2;
  }
  if (fault_specs.empty() && !no_faults && market_files.empty()) fault_specs = bundled_faults(seconds);

  if (speed > 0 && market_files.empty()) {
    std::fprintf(stderr, "obr demo: --speed plays a recording at its recorded pace: give it with --market FILE\n");
    return 2;
  }
  ScenarioOptions options;
  options.sim.speed = speed;
  if (!market_files.empty()) {
    if (auto loaded = sim::use_recordings(market_files, options.sim); !loaded.ok()) {
      std::fprintf(stderr, "obr demo: %s\n", std::string(loaded.status().message()).c_str());
      return 2;
    }
  }
  options.seconds = seconds;
  options.sim.tls = tls;
  options.sim.seed = seed;
  options.print_events = !json;
  for (const std::string& spec : fault_specs) {
    std::string error;
    auto f = sim::parse_fault(spec, error);
    if (!f) {
      std::fprintf(stderr, "obr demo: %s\n", error.c_str());
      return 2;
    }
    options.sim.faults.push_back(*f);
  }
  if (!json) {
    options.every_second = [](engine::Engine& e, double t) { print_ladder(e, t); };
    std::printf("obr demo: simulator on 127.0.0.1 (%s), %zu faults scheduled, %.0f s\n",
                tls ? "TLS, self-signed certificate trusted via its file" : "plain", options.sim.faults.size(),
                seconds);
  }
  options.stop = &install_interrupt_handlers();
  ScenarioResult r;
  std::string error;
  if (!run_scenario(options, r, error)) {
    std::fprintf(stderr, "obr demo: %s\n", error.c_str());
    return 2;
  }
  if (json) {
    std::printf("{\"books_total\":%zu,\"books_live_at_end\":%zu,\"checks_passed\":%" PRIu64
                ",\"faults_injected\":%zu,"
                "\"faults_detected\":%zu,\"resyncs\":%" PRIu64 ",\"wrong_books_served\":%" PRIu64
                ",\"recovery_ms_p50\":%.1f,\"recovery_ms_p99\":%.1f,\"seconds\":%.1f,\"frames\":%" PRIu64
                ",\"reconnects\":%" PRIu64 ",\"live_callbacks\":%" PRIu64
                ",\"callback_latency_us_p50\":%.1f,\"callback_latency_us_p99\":%.1f,\"faults_absorbed\":%zu"
                ",\"interrupted\":%s}\n",
                r.books_total, r.books_live_at_end, r.checks_passed, r.faults_injected, r.faults_detected, r.resyncs,
                r.wrong_books_served, r.recovery_ms_p50, r.recovery_ms_p99, r.seconds, r.frames, r.reconnects,
                r.live_callbacks, r.latency_us_p50, r.latency_us_p99, r.faults_absorbed,
                r.interrupted ? "true" : "false");
  } else {
    std::printf("\nsummary: %zu/%zu books live at the end, %" PRIu64
                " checks passed, %zu faults injected, %zu detected, "
                "%zu absorbed (overwritten before any check), %" PRIu64 " resyncs, %" PRIu64
                " reconnects, recovery p50 %.1f ms p99 %.1f ms, %" PRIu64
                " live books shown, wrong books served: %" PRIu64
                "\nframe-to-callback latency: p50 %.1f us, p99 %.1f us over %" PRIu64 " book updates\n",
                r.books_live_at_end, r.books_total, r.checks_passed, r.faults_injected, r.faults_detected,
                r.faults_absorbed, r.resyncs, r.reconnects, r.recovery_ms_p50, r.recovery_ms_p99, r.live_callbacks,
                r.wrong_books_served, r.latency_us_p50, r.latency_us_p99, r.latency_samples);
  }
  if (r.interrupted) {
    std::fprintf(stderr, "obr demo: interrupted after %.1f s: the summary covers the run so far\n", r.seconds);
    return kExitInterrupted;
  }
  const std::vector<std::string> reasons = failure_reasons(r);
  for (const std::string& why : reasons) std::fprintf(stderr, "obr demo: exit 1: %s\n", why.c_str());
  return reasons.empty() ? 0 : 1;
}

}  // namespace obr::tools

// tools/demo_command.cpp — `obr demo`: the simulator on loopback with a bundled market and
// fault schedule, the live engine connected to it over TLS, a live ladder, and a summary
// that says whether any wrong book was ever served.
//
// "Wrong book served": a listener callback that showed a book marked live whose top 10
// differed from every state the simulator's true book had recently been in (the replica
// lags the truth by the frames in flight, so it is compared with the truth's recent
// history, exactly, level by level; see Simulator::matches_recent_truth).
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "book/decimal.h"
#include "connectors/net/event_loop.h"
#include "engine/engine.h"
#include "tools/commands.h"
#include "tools/sim/simulator.h"

namespace obr::tools {
namespace {

using book::BookState;

void demo_usage(std::FILE* out) {
  std::fputs(
      "usage: obr demo [--seconds N] [--json] [--no-tls] [--seed S] [--no-faults] [--fault SPEC]...\n"
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
      "\n"
      "Exit status: 0 when every fault was detected (or, for a Kraken update dropped, duplicated\n"
      "or reordered, overwritten before any check could see it while no wrong book was shown),\n"
      "every book is live at the end and no wrong book was served; 1 otherwise; 2 for usage errors.\n",
      out);
}

struct Signal {
  std::string venue, symbol;  // symbol empty: a connection event or an error
  std::int64_t at_ns;
};

class DemoListener : public engine::Listener {
 public:
  explicit DemoListener(sim::Simulator& s) : sim_(s) {}

  void on_book(std::string_view venue, std::string_view symbol, const book::OrderBook& b, bool,
               std::int64_t) override {
    if (b.state() != BookState::kLive) return;
    ++live_callbacks;
    bids_.clear();
    asks_.clear();
    for (std::size_t i = 0; i < sim::Simulator::kTruthLevels && i < b.bids().size(); ++i) bids_.push_back(b.bids().at(i));
    for (std::size_t i = 0; i < sim::Simulator::kTruthLevels && i < b.asks().size(); ++i) asks_.push_back(b.asks().at(i));
    if (!sim_.matches_recent_truth(venue, symbol, bids_, asks_)) ++wrong_books;
  }

  void on_book_state(std::string_view venue, std::string_view symbol, BookState from, BookState to,
                     connectors::StateReason reason) override {
    const std::int64_t now = net::now_ns();
    const std::string key = std::string(venue) + " " + std::string(symbol);
    if (from == BookState::kLive) {
      left_live_[key] = now;
      signals.push_back({std::string(venue), std::string(symbol), now});
    }
    if (to == BookState::kLive) {
      auto it = left_live_.find(key);
      if (it != left_live_.end()) {
        recovery_ms.push_back(static_cast<double>(now - it->second) / 1e6);
        left_live_.erase(it);
      }
    }
    if (!quiet) {
      std::printf("  %-7.*s %-9.*s %s -> %s (%s)\n", static_cast<int>(venue.size()), venue.data(),
                  static_cast<int>(symbol.size()), symbol.data(), std::string(book::to_string(from)).c_str(),
                  std::string(book::to_string(to)).c_str(), std::string(connectors::to_string(reason)).c_str());
    }
  }

  void on_connection(std::string_view venue, engine::ConnectionState state, std::string_view detail) override {
    if (state == engine::ConnectionState::kClosed) {
      ++disconnects;
      signals.push_back({std::string(venue), "", net::now_ns()});
    }
    if (!quiet && state != engine::ConnectionState::kConnecting) {
      std::printf("  %-7.*s connection %s %.*s\n", static_cast<int>(venue.size()), venue.data(),
                  std::string(engine::to_string(state)).c_str(), static_cast<int>(std::min<std::size_t>(detail.size(), 80)),
                  detail.data());
    }
  }

  void on_error(std::string_view venue, std::string_view what) override {
    signals.push_back({std::string(venue), "", net::now_ns()});
    if (!quiet) {
      std::printf("  %-7.*s error: %.*s\n", static_cast<int>(venue.size()), venue.data(),
                  static_cast<int>(std::min<std::size_t>(what.size(), 100)), what.data());
    }
  }

  bool quiet = false;
  std::uint64_t live_callbacks = 0;
  std::uint64_t wrong_books = 0;
  std::uint64_t disconnects = 0;
  std::vector<double> recovery_ms;
  std::vector<Signal> signals;

 private:
  sim::Simulator& sim_;
  std::map<std::string, std::int64_t> left_live_;
  std::vector<book::Level> bids_, asks_;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// The bundled schedule: every book-level and connection-level fault kind, spread over the
// run, each on a different book or connection.
std::vector<std::string> bundled_faults(double seconds) {
  const std::vector<std::string> kinds = {
      "drop@T,venue=kraken,symbol=ETH/USD",    "corrupt_checksum@T,symbol=BTC/USD",
      "drop@T,venue=kucoin,symbol=SOL-USDT",   "skip_sequence=3@T,symbol=BTC-USDT",
      "reorder@T,venue=kraken,symbol=XRP/USD", "close@T,venue=kraken",
      "reorder@T,venue=kucoin,symbol=ETH-USDT", "stall@T,venue=kucoin",
      "maintenance@T",                          "oversized@T,venue=kraken",
      "malformed@T,venue=kucoin",
  };
  // Leave time at the end for the last recovery (a stall needs the 2 s watchdog).
  const double first = 1.5, last = std::max(first, seconds - 4.0);
  const std::size_t n = seconds >= 12 ? kinds.size() : std::max<std::size_t>(1, static_cast<std::size_t>(seconds / 1.5));
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
    std::printf("  %-7.*s %-9.*s %-17s %32s | %-32s checks %" PRIu64 " resyncs %" PRIu64 "\n",
                static_cast<int>(venue.size()), venue.data(), static_cast<int>(symbol.size()), symbol.data(),
                std::string(book::to_string(b.state())).c_str(), bid, ask, b.counters().checks_passed,
                b.counters().resyncs_requested);
  });
  std::fflush(stdout);
}

}  // namespace

int run_demo(int argc, char** argv) {
  double seconds = 15;
  bool json = false, tls = true, no_faults = false;
  std::uint64_t seed = 1;
  std::vector<std::string> fault_specs;
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
      char* end = nullptr;
      if (v == nullptr) return 2;
      seconds = std::strtod(v, &end);
      if (end == v || *end != 0 || !(seconds >= 3) || seconds > 86400) {
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
    } else {
      std::fprintf(stderr, "obr demo: unknown option '%s'\n", argv[i]);
      demo_usage(stderr);
      return 2;
    }
  }
  if (fault_specs.empty() && !no_faults) fault_specs = bundled_faults(seconds);

  sim::SimConfig sc;
  sc.tls = tls;
  sc.seed = seed;
  sc.cert_file = "/tmp/obr-demo-cert-" + std::to_string(::getpid()) + ".pem";
  for (const std::string& spec : fault_specs) {
    std::string error;
    auto f = sim::parse_fault(spec, error);
    if (!f) {
      std::fprintf(stderr, "obr demo: %s\n", error.c_str());
      return 2;
    }
    sc.faults.push_back(*f);
  }
  net::EventLoop loop;
  sim::Simulator simulator(loop, sc);
  std::string error;
  if (!simulator.start(error)) {
    std::fprintf(stderr, "obr demo: %s\n", error.c_str());
    return 2;
  }
  DemoListener listener(simulator);
  listener.quiet = json;
  engine::EngineConfig ec;
  for (const auto& s : sim::default_kraken_symbols()) ec.kraken.symbols.push_back(s.name);
  for (const auto& s : sim::default_kucoin_symbols()) ec.kucoin.symbols.push_back(s.name);
  ec.kraken.endpoints = {simulator.kraken_url()};
  ec.kucoin.rest_base = simulator.kucoin_rest_base();
  ec.tls.ca_file = simulator.cert_file();
  ec.watchdog_ns = 2'000'000'000;
  ec.backoff.base_ns = 100'000'000;
  ec.backoff.cap_ns = 2'000'000'000;
  std::size_t books_total = 0;
  {
    engine::Engine eng(ec, &listener, &loop);
    if (!json) {
      std::printf("obr demo: simulator on %s and %s (%s), %zu faults scheduled, %.0f s\n",
                  simulator.kraken_url().c_str(), simulator.kucoin_rest_base().c_str(),
                  tls ? "TLS, self-signed certificate trusted via its file" : "plain", sc.faults.size(), seconds);
    }
    eng.connect();
    const std::int64_t start = net::now_ns();
    const std::int64_t end = start + static_cast<std::int64_t>(seconds * 1e9);
    std::int64_t next_ladder = start + 1'000'000'000;
    while (net::now_ns() < end) {
      loop.run_for(50'000'000);
      if (!json && net::now_ns() >= next_ladder) {
        print_ladder(eng, static_cast<double>(net::now_ns() - start) / 1e9);
        next_ladder += 1'000'000'000;
      }
    }
    // Drain: stop the market, let the frames in flight arrive, then compare with the truth.
    simulator.pause_market(true);
    loop.run_for(300'000'000);
    std::size_t live_at_end = 0, equal_at_end = 0;
    std::uint64_t checks = 0, resyncs = 0;
    eng.for_each_book([&](std::string_view venue, std::string_view symbol, const book::OrderBook& b) {
      ++books_total;
      checks += b.counters().checks_passed;
      resyncs += b.counters().resyncs_requested;
      if (b.state() != BookState::kLive) return;
      ++live_at_end;
      const auto tb = simulator.truth_bids(venue, symbol);
      const auto ta = simulator.truth_asks(venue, symbol);
      bool same = tb.size() >= 10 && ta.size() >= 10 && b.bids().size() >= 10 && b.asks().size() >= 10;
      for (std::size_t i = 0; same && i < 10; ++i) same = b.bids().at(i) == tb[i] && b.asks().at(i) == ta[i];
      if (same) ++equal_at_end;
    });
    // A fault counts as detected when the engine reacted on that venue (and book, for a
    // book fault) within 10 s: the book left live, the connection closed, or an error.
    // Kraken updates carry absolute quantities, so a dropped, duplicated or reordered update
    // can be overwritten by the next one before any checksum sees it: the book is right
    // again and nothing can (or need) be detected. Such a fault counts as absorbed, and only
    // when no wrong book was ever shown.
    std::size_t detected = 0, absorbed = 0;
    for (const sim::FiredFault& f : simulator.fired()) {
      const std::string_view venue = sim::fault_venue(f.fault);
      bool seen = false;
      for (const Signal& s : listener.signals) {
        if (s.at_ns < f.at_ns || s.at_ns > f.at_ns + 10'000'000'000) continue;
        if (!venue.empty() && s.venue != venue) continue;
        if (!f.symbol.empty() && s.symbol != f.symbol) continue;
        seen = true;
        break;
      }
      const bool overwritable = venue == "kraken" && (f.fault.kind == sim::FaultKind::kDrop ||
                                                      f.fault.kind == sim::FaultKind::kReorder ||
                                                      f.fault.kind == sim::FaultKind::kDuplicate);
      if (seen) {
        ++detected;
      } else if (overwritable && listener.wrong_books == 0) {
        ++absorbed;
      }
    }
    const auto st = eng.stats();
    const std::uint64_t wrong = listener.wrong_books + (live_at_end - equal_at_end);
    const double p50 = percentile(listener.recovery_ms, 50), p99 = percentile(listener.recovery_ms, 99);
    // Frame read off the socket → listener callback, every update of the run (engine/latency_histogram.h).
    const double lat50 = static_cast<double>(eng.latency().quantile(0.5)) / 1e3;
    const double lat99 = static_cast<double>(eng.latency().quantile(0.99)) / 1e3;
    if (json) {
      std::printf(
          "{\"books_total\":%zu,\"books_live_at_end\":%zu,\"checks_passed\":%" PRIu64 ",\"faults_injected\":%zu,"
          "\"faults_detected\":%zu,\"resyncs\":%" PRIu64 ",\"wrong_books_served\":%" PRIu64
          ",\"recovery_ms_p50\":%.1f,\"recovery_ms_p99\":%.1f,\"seconds\":%.1f,\"frames\":%" PRIu64
          ",\"reconnects\":%" PRIu64 ",\"live_callbacks\":%" PRIu64
          ",\"callback_latency_us_p50\":%.1f,\"callback_latency_us_p99\":%.1f,\"faults_absorbed\":%zu}\n",
          books_total, live_at_end, checks, simulator.fired().size(), detected, resyncs, wrong, p50, p99, seconds,
          st.frames, st.disconnects, listener.live_callbacks, lat50, lat99, absorbed);
    } else {
      std::printf(
          "\nsummary: %zu/%zu books live at the end, %" PRIu64 " checks passed, %zu faults injected, %zu detected, "
          "%zu absorbed (overwritten before any check), %" PRIu64 " resyncs, %" PRIu64
          " reconnects, recovery p50 %.1f ms p99 %.1f ms, %" PRIu64 " live books shown, wrong books served: %" PRIu64
          "\nframe-to-callback latency: p50 %.1f us, p99 %.1f us over %" PRIu64 " book updates\n",
          live_at_end, books_total, checks, simulator.fired().size(), detected, absorbed, resyncs, st.disconnects, p50,
          p99, listener.live_callbacks, wrong, lat50, lat99, eng.latency().count());
    }
    std::remove(sc.cert_file.c_str());
    const bool ok = wrong == 0 && live_at_end == books_total && detected + absorbed == simulator.fired().size() &&
                    simulator.fired().size() == sc.faults.size();
    return ok ? 0 : 1;
  }
}

}  // namespace obr::tools

// tools/live_commands.cpp — `obr record` (a live run recorded for `obr replay`) and `obr
// watch` (a live terminal ladder of chosen books with state and latency). Both run the
// engine on this thread until --seconds pass or SIGINT/SIGTERM.
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <unistd.h>

#include "book/decimal.h"
#include "connectors/net/event_loop.h"
#include "engine/config_file.h"
#include "engine/engine.h"
#include "tools/commands.h"

namespace obr::tools {
namespace {

volatile std::sig_atomic_t g_signalled = 0;
extern "C" void on_signal(int) { g_signalled = 1; }

// Prints state changes, connection changes and errors as they happen; counts them.
class PrintingListener : public engine::Listener {
 public:
  explicit PrintingListener(std::FILE* out) : out_(out) {}
  void on_book_state(std::string_view venue, std::string_view symbol, book::BookState from, book::BookState to,
                     connectors::StateReason reason) override {
    ++state_changes;
    std::fprintf(out_, "[%s %s] %s -> %s (%s)\n", std::string(venue).c_str(), std::string(symbol).c_str(),
                 std::string(book::to_string(from)).c_str(), std::string(book::to_string(to)).c_str(),
                 std::string(connectors::to_string(reason)).c_str());
  }
  void on_connection(std::string_view venue, engine::ConnectionState state, std::string_view detail) override {
    std::fprintf(out_, "[%s] connection %s%s%s\n", std::string(venue).c_str(),
                 std::string(engine::to_string(state)).c_str(), detail.empty() ? "" : ": ",
                 std::string(detail).c_str());
  }
  void on_error(std::string_view venue, std::string_view what) override {
    ++errors;
    std::fprintf(out_, "[%s] error: %s\n", std::string(venue).c_str(), std::string(what).c_str());
  }
  std::uint64_t state_changes = 0;
  std::uint64_t errors = 0;

 private:
  std::FILE* out_;
};

// run_engine runs `eng` on this thread until `seconds` (<= 0: no limit) or a signal;
// `every_second` runs once a second on the engine thread.
template <class F>
void run_engine(engine::Engine& eng, double seconds, F every_second) {
  g_signalled = 0;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  net::Timer poll(eng.loop());
  const std::int64_t start = net::now_ns();
  std::int64_t next_second = start + 1'000'000'000;
  bool stopping = false;
  std::function<void()> check = [&] {
    const std::int64_t now = net::now_ns();
    if (now >= next_second) {
      every_second(now - start);
      next_second += 1'000'000'000;
    }
    if (!stopping && (g_signalled || (seconds > 0 && now - start >= static_cast<std::int64_t>(seconds * 1e9)))) {
      stopping = true;
      eng.stop();  // on the engine thread: closes connections, then ends run()
      return;
    }
    poll.start_after(100'000'000, check);
  };
  poll.start_after(100'000'000, check);
  eng.run();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

bool parse_seconds(const char* text, double& out) { return parse_number(text, 0, HUGE_VAL, out); }

void record_usage(std::FILE* out) {
  std::fputs(
      "usage: obr record --config FILE --out FILE [--seconds N]\n"
      "\n"
      "Runs the live engine with the venues and symbols of the config file and records every\n"
      "frame, HTTP response, connect, disconnect and timer tick to an obr recording (gzip,\n"
      "docs/recording.md). `obr replay FILE` turns it back into the same books and counters.\n"
      "\n"
      "  --config FILE   engine configuration (JSON; see engine/config_file.h)\n"
      "  --out FILE      the recording to write (e.g. run.obr.gz); replaced if it exists\n"
      "  --seconds N     stop after N seconds (default: until Ctrl-C)\n"
      "\n"
      "State changes, connection changes and errors go to stderr as they happen; a summary\n"
      "goes to stdout at the end. Exit status: 0 when the recording was written completely,\n"
      "1 when writing it failed, 2 for bad arguments or configuration.\n",
      out);
}

}  // namespace

int run_record(int argc, char** argv) {
  std::string config_path, out_path;
  double seconds = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--help" || a == "-h") {
      record_usage(stdout);
      return 0;
    } else if (a == "--config" && has_value) {
      config_path = argv[++i];
    } else if (a == "--out" && has_value) {
      out_path = argv[++i];
    } else if (a == "--seconds" && has_value) {
      if (!parse_seconds(argv[++i], seconds)) {
        std::fprintf(stderr, "obr record: --seconds needs a number of seconds, got '%s'\n", argv[i]);
        return 2;
      }
    } else {
      std::fprintf(stderr, "obr record: unknown or incomplete option '%s'\n", argv[i]);
      record_usage(stderr);
      return 2;
    }
  }
  if (config_path.empty() || out_path.empty()) {
    std::fprintf(stderr, "obr record: --config and --out are required\n");
    record_usage(stderr);
    return 2;
  }
  auto config = engine::load_config(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "obr record: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  PrintingListener listener(stderr);
  engine::Engine eng(*config, &listener);
  if (absl::Status st = eng.record_to(out_path); !st.ok()) {
    std::fprintf(stderr, "obr record: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  std::fprintf(stderr, "obr record: recording to %s%s\n", out_path.c_str(),
               seconds > 0 ? "" : " until Ctrl-C");
  run_engine(eng, seconds, [](std::int64_t) {});
  const absl::Status closed = eng.close_recording();
  const engine::EngineStats s = eng.stats();
  std::printf("obr record: %s: %" PRIu64 " frames, %" PRIu64 " bytes received, %" PRIu64 " malformed, %" PRIu64
              " reconnects\n",
              out_path.c_str(), s.frames, s.bytes, s.malformed, s.reconnects);
  eng.for_each_book([](std::string_view venue, std::string_view symbol, const book::OrderBook& b) {
    std::printf("  %-7s %-10s %-17s updates %" PRIu64 " checks passed %" PRIu64 " failed %" PRIu64 "\n",
                std::string(venue).c_str(), std::string(symbol).c_str(), std::string(book::to_string(b.state())).c_str(),
                b.counters().updates, b.counters().checks_passed, b.counters().checks_failed);
  });
  if (!closed.ok()) {
    std::fprintf(stderr, "obr record: %s\n", std::string(closed.message()).c_str());
    return 1;
  }
  return 0;
}

namespace {

void watch_usage(std::FILE* out) {
  std::fputs(
      "usage: obr watch [options] VENUE:SYMBOL...\n"
      "\n"
      "A live ladder of the top levels of each book, refreshed every second, with its state,\n"
      "checks, the age of its last update and the engine's frame-to-callback latency.\n"
      "  e.g. obr watch kraken:BTC/USD kucoin:BTC-USDT\n"
      "\n"
      "  --levels N         levels per side (default 5, at most 10)\n"
      "  --seconds N        stop after N seconds (default: until Ctrl-C)\n"
      "  --config FILE      start from this engine configuration (endpoints, TLS, limits)\n"
      "  --kraken-url URL   Kraken v2 WebSocket (default wss://ws.kraken.com/v2)\n"
      "  --kucoin-rest URL  KuCoin REST base (default https://api.kucoin.com)\n"
      "  --ca-file PEM      also trust this CA (e.g. the certificate `obr serve` writes)\n"
      "\n"
      "Point it at the simulator: obr serve --port 8443 & then\n"
      "  obr watch --kraken-url wss://127.0.0.1:8443/v2 --kucoin-rest https://127.0.0.1:8443 \\\n"
      "            --ca-file /tmp/obr-sim-cert.pem kraken:BTC/USD kucoin:BTC-USDT\n",
      out);
}

std::string level_text(const book::Level& l, const book::OrderBook& b) {
  return book::to_decimal_string(l.qty, b.qty_scale()) + " @ " + book::to_decimal_string(l.price, b.price_scale());
}

}  // namespace

int run_watch(int argc, char** argv) {
  engine::EngineConfig config;
  bool have_config = false;
  std::vector<std::string> books;
  std::string kraken_url, kucoin_rest, ca_file;
  double seconds = 0;
  long levels = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--help" || a == "-h") {
      watch_usage(stdout);
      return 0;
    } else if (a == "--config" && has_value) {
      auto c = engine::load_config(argv[++i]);
      if (!c.ok()) {
        std::fprintf(stderr, "obr watch: %s\n", std::string(c.status().message()).c_str());
        return 2;
      }
      config = *c;
      have_config = true;
    } else if (a == "--kraken-url" && has_value) {
      kraken_url = argv[++i];
    } else if (a == "--kucoin-rest" && has_value) {
      kucoin_rest = argv[++i];
    } else if (a == "--ca-file" && has_value) {
      ca_file = argv[++i];
    } else if (a == "--seconds" && has_value) {
      if (!parse_seconds(argv[++i], seconds)) {
        std::fprintf(stderr, "obr watch: --seconds needs a number of seconds, got '%s'\n", argv[i]);
        return 2;
      }
    } else if (a == "--levels" && has_value) {
      char* end = nullptr;
      levels = std::strtol(argv[++i], &end, 10);
      if (*end != 0 || levels < 1 || levels > 10) {
        std::fprintf(stderr, "obr watch: --levels takes 1 to 10, got '%s'\n", argv[i]);
        return 2;
      }
    } else if (!a.starts_with("-")) {
      books.emplace_back(a);
    } else {
      std::fprintf(stderr, "obr watch: unknown or incomplete option '%s'\n", argv[i]);
      watch_usage(stderr);
      return 2;
    }
  }
  if (have_config && !books.empty()) {
    config.kraken.symbols.clear();
    config.kucoin.symbols.clear();
  }
  for (const std::string& ref : books) {
    const std::size_t colon = ref.find(':');
    const std::string venue = ref.substr(0, colon == std::string::npos ? 0 : colon);
    const std::string symbol = colon == std::string::npos ? "" : ref.substr(colon + 1);
    if (symbol.empty() || !engine::is_venue(venue)) {
      std::fprintf(stderr, "obr watch: '%s' is not VENUE:SYMBOL with VENUE kraken or kucoin (e.g. kraken:BTC/USD)\n",
                   ref.c_str());
      return 2;
    }
    (venue == "kraken" ? config.kraken.symbols : config.kucoin.symbols).push_back(symbol);
  }
  if (config.kraken.symbols.empty() && config.kucoin.symbols.empty()) {
    std::fprintf(stderr, "obr watch: name at least one book, e.g. kraken:BTC/USD\n");
    watch_usage(stderr);
    return 2;
  }
  if (!kraken_url.empty()) config.kraken.endpoints = {kraken_url};
  if (!kucoin_rest.empty()) config.kucoin.rest_base = kucoin_rest;
  if (!ca_file.empty()) config.tls.ca_file = ca_file;

  PrintingListener listener(stderr);
  engine::Engine eng(config, &listener);
  if (absl::Status st = eng.config_status(); !st.ok()) {  // inert: check_config refused the config
    std::fprintf(stderr, "obr watch: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  run_engine(eng, seconds, [&](std::int64_t elapsed_ns) {
    if (tty) std::fputs("\x1b[H\x1b[2J", stdout);
    const engine::EngineStats s = eng.stats();
    const engine::LatencyHistogram& lat = eng.latency();
    std::printf("obr watch  t=%.0fs  frames %" PRIu64 "  reconnects %" PRIu64
                "  frame-to-callback p50 %.1f us p99 %.1f us\n",
                static_cast<double>(elapsed_ns) / 1e9, s.frames, s.reconnects,
                static_cast<double>(lat.quantile(0.5)) / 1e3, static_cast<double>(lat.quantile(0.99)) / 1e3);
    const std::int64_t now = net::now_ns();
    eng.for_each_book([&](std::string_view venue, std::string_view symbol, const book::OrderBook& b) {
      engine::TopOfBook top;
      eng.top(venue, symbol, top);
      std::printf("\n%s %s  %s  checks passed %" PRIu64 " failed %" PRIu64 "  resyncs %" PRIu64
                  "  last update %.0f ms ago\n",
                  std::string(venue).c_str(), std::string(symbol).c_str(), std::string(book::to_string(b.state())).c_str(),
                  b.counters().checks_passed, b.counters().checks_failed, b.counters().resyncs_requested,
                  top.updated_ns > 0 ? static_cast<double>(now - top.updated_ns) / 1e6 : -1.0);
      std::printf("  %32s | %-32s\n", "bid (qty @ price)", "ask (qty @ price)");
      for (std::size_t i = 0; i < static_cast<std::size_t>(levels); ++i) {
        const std::string bid = i < b.bids().size() ? level_text(b.bids().at(i), b) : "";
        const std::string ask = i < b.asks().size() ? level_text(b.asks().at(i), b) : "";
        std::printf("  %32s | %-32s\n", bid.c_str(), ask.c_str());
      }
    });
    std::fflush(stdout);
  });
  return 0;
}

}  // namespace obr::tools

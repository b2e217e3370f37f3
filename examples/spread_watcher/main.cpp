// spread_watcher — an example strategy on an installed obr (find_package(obr), obr::engine).
//
// It keeps Kraken BTC/USD and KuCoin BTC-USDT books through obr's live engine, maps the
// two into one consolidated instrument "BTC-USD", prints every book state change (with
// its reason) and connection change as the engine reports them, and once a second reads
// the consolidated best bid and offer from its own thread — Engine::consolidated is
// lock-free and safe from any thread — and prints it.
//
//   spread_watcher [--seconds N] [--kraken-url URL] [--kucoin-rest URL] [--ca-file PEM]
//                  [--kraken-symbol S] [--kucoin-symbol S]
//
// Defaults are the real venues. Against obr's exchange simulator:
//   obr serve --cert /tmp/sim.pem            # prints "kraken v2: wss://127.0.0.1:PORT/v2"
//   spread_watcher --kraken-url wss://127.0.0.1:PORT/v2 --kucoin-rest https://127.0.0.1:PORT
//                  --ca-file /tmp/sim.pem --seconds 10
//
// Exit status: 0 when at least one consolidated quote with both sides was printed, 1
// otherwise, 2 for usage errors.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "book/book_state.h"
#include "book/decimal.h"
#include "connectors/protocol/session.h"
#include "engine/consolidated.h"
#include "engine/engine.h"

namespace {

constexpr const char* kInstrument = "BTC-USD";

std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted.store(true); }

// Output comes from two threads (the engine's listener callbacks and the quote thread);
// one lock keeps each line whole.
std::mutex g_out;

__attribute__((format(printf, 1, 2))) void say(const char* fmt, ...) {
  std::lock_guard<std::mutex> lock(g_out);
  va_list args;
  va_start(args, fmt);
  std::vprintf(fmt, args);
  va_end(args);
  std::fflush(stdout);
}

std::string str(std::string_view s) { return std::string(s); }

// Listener: called on the engine thread, in order.
class Printer : public obr::engine::Listener {
 public:
  void on_book_state(std::string_view venue, std::string_view symbol, obr::book::BookState from,
                     obr::book::BookState to, obr::connectors::StateReason reason) override {
    state_changes.fetch_add(1, std::memory_order_relaxed);
    say("state  %-7s %-9s %s -> %s (%s)\n", str(venue).c_str(), str(symbol).c_str(),
        str(obr::book::to_string(from)).c_str(), str(obr::book::to_string(to)).c_str(),
        str(obr::connectors::to_string(reason)).c_str());
  }

  void on_connection(std::string_view venue, obr::engine::ConnectionState state, std::string_view detail) override {
    say("conn   %-7s %s%s%s\n", str(venue).c_str(), str(obr::engine::to_string(state)).c_str(),
        detail.empty() ? "" : " ", str(detail).c_str());
  }

  void on_error(const obr::engine::EngineError& e) override {
    say("error  %-7s %s%s%s\n", str(e.venue).c_str(), str(e.symbol).c_str(), e.symbol.empty() ? "" : ": ",
        str(e.detail).c_str());
  }

  std::atomic<std::uint64_t> state_changes{0};
};

// A signed price difference (ask - bid, each at its own scale) as exact decimal text at
// the finer of the two scales. to_decimal_string takes unsigned values, so the sign is
// written here; a crossed market (bid above ask across venues) gives a negative spread.
std::string spread_text(const obr::engine::BestQuote& bid, const obr::engine::BestQuote& ask) {
  __extension__ using i128 = __int128;
  const int scale = bid.price_scale > ask.price_scale ? bid.price_scale : ask.price_scale;
  i128 b = bid.level.price, a = ask.level.price;
  for (int s = bid.price_scale; s < scale; ++s) b *= 10;
  for (int s = ask.price_scale; s < scale; ++s) a *= 10;
  const i128 d = a - b;
  const i128 mag = d < 0 ? -d : d;
  if (mag > INT64_MAX) return "(out of range)";
  std::string out(d < 0 ? 1 : 0, '-');
  out += obr::book::to_decimal_string(static_cast<std::int64_t>(mag), scale);
  return out;
}

void usage(std::FILE* out) {
  std::fputs(
      "usage: spread_watcher [--seconds N] [--kraken-url URL] [--kucoin-rest URL] [--ca-file PEM]\n"
      "                      [--kraken-symbol S] [--kucoin-symbol S]\n"
      "\n"
      "  --seconds N        run N seconds (default 30; 0: until Ctrl-C)\n"
      "  --kraken-url URL   Kraken v2 WebSocket (default wss://ws.kraken.com/v2)\n"
      "  --kucoin-rest URL  KuCoin REST base (default https://api.kucoin.com)\n"
      "  --ca-file PEM      also trust this certificate (e.g. obr serve's --cert file)\n"
      "  --kraken-symbol S  Kraken v2 pair (default BTC/USD)\n"
      "  --kucoin-symbol S  KuCoin symbol (default BTC-USDT)\n",
      out);
}

}  // namespace

int main(int argc, char** argv) {
  std::string kraken_url = "wss://ws.kraken.com/v2";
  std::string kucoin_rest = "https://api.kucoin.com";
  std::string ca_file;
  std::string kraken_symbol = "BTC/USD";
  std::string kucoin_symbol = "BTC-USDT";
  double seconds = 30;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "spread_watcher: %s needs a value (or is unknown)\n", a.c_str());
      usage(stderr);
      return 2;
    }
    const std::string v = argv[++i];
    if (a == "--kraken-url") {
      kraken_url = v;
    } else if (a == "--kucoin-rest") {
      kucoin_rest = v;
    } else if (a == "--ca-file") {
      ca_file = v;
    } else if (a == "--kraken-symbol") {
      kraken_symbol = v;
    } else if (a == "--kucoin-symbol") {
      kucoin_symbol = v;
    } else if (a == "--seconds") {
      char* end = nullptr;
      seconds = std::strtod(v.c_str(), &end);
      if (*end != 0 || !(seconds >= 0)) {
        std::fprintf(stderr, "spread_watcher: --seconds '%s' is not a number >= 0\n", v.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "spread_watcher: unknown option '%s'\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }

  obr::engine::EngineConfig config;
  config.venue("kraken").symbols = {kraken_symbol};
  config.venue("kraken").endpoints = {kraken_url};
  config.venue("kucoin").symbols = {kucoin_symbol};
  config.venue("kucoin").rest_base = kucoin_rest;
  config.tls.ca_file = ca_file;
  config.consolidated = {{kInstrument, {{"kraken", kraken_symbol}, {"kucoin", kucoin_symbol}}}};
  const auto& books = config.consolidated.front().books;  // venue names by BestQuote::book

  Printer printer;
  obr::engine::Engine engine(config, &printer);
  std::signal(SIGINT, on_sigint);
  say("spread_watcher: %s = kraken %s (%s) + kucoin %s (%s)\n", kInstrument, kraken_symbol.c_str(), kraken_url.c_str(),
      kucoin_symbol.c_str(), kucoin_rest.c_str());
  engine.start();  // the engine runs on its own thread from here

  // The quote thread: once a second, read the consolidated BBO (lock-free, any thread).
  std::uint64_t quotes = 0;
  std::thread watcher([&] {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const auto deadline = t0 + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
    auto next = t0 + std::chrono::seconds(1);
    while (!g_interrupted.load()) {
      if (seconds > 0 && clock::now() >= deadline) break;
      if (clock::now() < next) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      next += std::chrono::seconds(1);
      obr::engine::ConsolidatedBbo bbo;
      if (!engine.consolidated(kInstrument, bbo)) {
        say("quote  %s unknown instrument\n", kInstrument);
        continue;
      }
      if (!bbo.bid.valid || !bbo.ask.valid) {
        say("quote  %s no live quote (live %zu/%zu)\n", kInstrument, bbo.books_live, bbo.books_total);
        continue;
      }
      ++quotes;
      const auto& b = bbo.bid;
      const auto& a = bbo.ask;
      // The venues are separate markets: a bid above the other venue's ask (a negative
      // spread, "crossed") is possible and is shown as it is.
      const bool crossed = obr::engine::compare_prices(b.level.price, b.price_scale, a.level.price, a.price_scale) > 0;
      say("quote  %s bid %s x %s @ %s  ask %s x %s @ %s  spread %s  live %zu/%zu%s\n", kInstrument,
          obr::book::to_decimal_string(b.level.price, b.price_scale).c_str(),
          obr::book::to_decimal_string(b.level.qty, b.qty_scale).c_str(), books[b.book].venue.c_str(),
          obr::book::to_decimal_string(a.level.price, a.price_scale).c_str(),
          obr::book::to_decimal_string(a.level.qty, a.qty_scale).c_str(), books[a.book].venue.c_str(),
          spread_text(b, a).c_str(), bbo.books_live, bbo.books_total, crossed ? "  crossed" : "");
    }
  });
  watcher.join();
  engine.stop();  // closes the connections and joins the engine thread

  std::printf("spread_watcher: %llu consolidated quotes, %llu state changes\n", static_cast<unsigned long long>(quotes),
              static_cast<unsigned long long>(printer.state_changes.load()));
  return quotes > 0 ? 0 : 1;
}

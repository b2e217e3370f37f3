// tools/live_commands.cpp — `obr record` (a live run recorded for `obr replay`) and `obr
// watch` (a live terminal ladder of chosen books with state and latency). Both run the
// engine on this thread until --seconds pass or SIGINT/SIGTERM.
#include <unistd.h>

#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "book/decimal.h"
#include "connectors/net/event_loop.h"
#include "engine/config_file.h"
#include "engine/engine.h"
#include "engine/json_text.h"
#include "engine/time_text.h"
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
  void on_error(const engine::EngineError& e) override {
    ++errors;
    std::fprintf(out_, "[%s%s%s] %s error: %s\n", std::string(e.venue).c_str(), e.symbol.empty() ? "" : " ",
                 std::string(e.symbol).c_str(), std::string(engine::to_string(e.kind)).c_str(),
                 std::string(e.detail).c_str());
  }
  std::uint64_t state_changes = 0;
  std::uint64_t errors = 0;

 private:
  std::FILE* out_;
};

// run_engine runs `eng` on this thread until `seconds` (<= 0: no limit) or a signal;
// `every_second` runs once a second on the engine thread, `before_stop` once when the
// engine has just closed its connections: no frame is processed (or recorded) after it,
// and the books are still as they were live (they go stale as the closes complete).
template <class F, class G>
void run_engine(engine::Engine& eng, double seconds, F every_second, G before_stop) {
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
      // stop() posts its work (close every connection; no frame reaches a session after
      // that), so before_stop, posted behind it, sees every frame the recording holds.
      eng.stop();  // on the engine thread: closes connections, then ends run()
      eng.loop().post([&] { before_stop(); });
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

// LiveOptions: what every live command takes besides its own options: endpoints by venue
// and an extra CA file, applied over the configuration (file or defaults).
struct LiveOptions {
  std::vector<std::pair<std::string, std::string>> endpoints;  // (venue, URL) in order given
  std::string ca_file;
};

// parse_live_option consumes argv[i] (and its value) when it is --endpoint or --ca-file.
// Returns 1 when consumed, 0 when not one of them, 2 after printing a usage error.
int parse_live_option(const char* command, int argc, char** argv, int& i, LiveOptions& out) {
  const std::string_view a = argv[i];
  if (a != "--endpoint" && a != "--ca-file") return 0;
  if (i + 1 >= argc) {
    std::fprintf(stderr, "obr %s: %s needs a value\n", command, argv[i]);
    return 2;
  }
  const std::string v = argv[++i];
  if (a == "--ca-file") {
    out.ca_file = v;
    return 1;
  }
  const std::size_t eq = v.find('=');
  const std::string venue = v.substr(0, eq == std::string::npos ? 0 : eq);
  if (eq == std::string::npos || eq + 1 == v.size() || !engine::is_venue(venue)) {
    std::fprintf(stderr,
                 "obr %s: --endpoint '%s' is not VENUE=URL with VENUE one of %s (e.g. "
                 "kraken=wss://127.0.0.1:8443/v2, kucoin=https://127.0.0.1:8443)\n",
                 command, v.c_str(), engine::venue_names().c_str());
    return 2;
  }
  out.endpoints.emplace_back(venue, v.substr(eq + 1));
  return 1;
}

// apply_live_options: a ws:// or wss:// URL is a WebSocket endpoint of the venue (a list,
// tried in turn: the first such --endpoint replaces the configured ones); an http:// or
// https:// URL is its REST base (where a venue's tokens and snapshots come from). What a
// venue has no use for is refused by check_config, naming the key.
void apply_live_options(const LiveOptions& o, engine::EngineConfig& config) {
  std::vector<std::string> replaced;  // venues whose configured endpoints were replaced
  for (const auto& [venue, url] : o.endpoints) {
    engine::VenueConfig& v = config.venue(venue);
    if (url.starts_with("ws://") || url.starts_with("wss://")) {
      if (std::find(replaced.begin(), replaced.end(), venue) == replaced.end()) {
        v.endpoints.clear();
        replaced.push_back(venue);
      }
      v.endpoints.push_back(url);
    } else {
      v.rest_base = url;  // check_config refuses what is not an http(s):// URL
    }
  }
  if (!o.ca_file.empty()) config.tls.ca_file = o.ca_file;
}

// start_listening: refuses a config the engine would not run (check_config and its files,
// exit 2), binds /health and /metrics when asked and says where (the bound port when :0
// was asked). Returns 0, or the exit status after printing why.
int start_listening(const char* command, engine::Engine& eng, const engine::EngineConfig& config) {
  if (absl::Status st = eng.config_status(); !st.ok()) {  // inert: the config was refused
    std::fprintf(stderr, "obr %s: %s\n", command, std::string(st.message()).c_str());
    return 2;
  }
  if (config.http_listen.empty()) return 0;
  if (absl::Status st = eng.start_http(); !st.ok()) {
    std::fprintf(stderr, "obr %s: http_listen '%s': %s\n", command, config.http_listen.c_str(),
                 std::string(st.message()).c_str());
    return 2;
  }
  const std::string host = config.http_listen.substr(0, config.http_listen.rfind(':'));
  std::fprintf(stderr, "obr %s: /health and /metrics on http://%s:%u\n", command, host.c_str(),
               static_cast<unsigned>(eng.http_port()));
  return 0;
}

// A book's state as it was just before shutdown (shutdown makes every book stale).
struct FinalBook {
  std::string venue, symbol;
  book::BookState state;
  book::BookCounters counters;
};

void record_usage(std::FILE* out) {
  std::fputs(
      "usage: obr record --config FILE --out FILE [--seconds N] [--rotate-mb N] [--rotate-every DURATION]\n"
      "\n"
      "Runs the live engine with the venues and symbols of the config file and records every\n"
      "frame, HTTP response, connect, disconnect and timer tick to an obr recording (gzip, or\n"
      "zstd when FILE ends in .zst; docs/recording.md). `obr replay FILE` turns it back into\n"
      "the same books and counters.\n"
      "\n"
      "  --config FILE   engine configuration (JSON; see engine/config_file.h)\n"
      "  --out FILE      the recording to write (e.g. run.obr.gz, or run.obr.zst for zstd);\n"
      "                  replaced if it exists\n"
      "  --seconds N     stop after N seconds (default: until Ctrl-C)\n"
      "  --rotate-mb N   go on in a new file once the current one holds N MB (10^6 bytes,\n"
      "                  compressed; checked once a second, so a file may pass N by about a\n"
      "                  second of data); N may have a fraction (0.5)\n"
      "  --rotate-every DURATION\n"
      "                  go on in a new file at every multiple of DURATION since the Unix epoch\n"
      "                  (ns, us, ms, s, m, h: 1h rotates on the hour, UTC)\n"
      "                  With either, the files are FILE's parts: run.obr.gz is written as\n"
      "                  run.000001.obr.gz, run.000002.obr.gz, ... (listed at the end), each\n"
      "                  readable on its own; `obr replay run.*.obr.gz` replays them as one\n"
      "                  run, the same books and counters as one file (docs/recording.md\n"
      "                  \"Rotation\")\n"
      "  --endpoint VENUE=URL  override a venue's endpoint (repeatable): kraken=wss://HOST:PORT/v2\n"
      "                  (several are tried in turn), kucoin=https://HOST:PORT (its REST base)\n"
      "  --ca-file PEM   also trust this CA (e.g. the certificate `obr serve --cert` writes)\n"
      "\n"
      "State changes, connection changes and errors go to stderr as they happen; a summary\n"
      "goes to stdout at the end, with each book's state as it was before shutdown. A config\n"
      "that cannot work (a bad endpoint URL, a CA file that does not load, an http_listen\n"
      "that does not parse or bind) is refused before connecting.\n"
      "Exit status: 0 when the recording was written completely, every check passed and at\n"
      "least one book was validated; 1 when writing it failed or a check failed; 2 for bad\n"
      "arguments or configuration; 3 when nothing was validated (one line says why).\n",
      out);
}

}  // namespace

int run_record(int argc, char** argv) {
  std::string config_path, out_path;
  double seconds = 0;
  engine::RecordingRotation rotation;
  LiveOptions live;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (const int r = parse_live_option("record", argc, argv, i, live); r != 0) {
      if (r == 2) return 2;
      continue;
    }
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
    } else if (a == "--rotate-mb" && has_value) {
      double mb = 0;
      if (!parse_number(argv[++i], 0, 1e12, mb) || mb * 1e6 < 1) {
        std::fprintf(stderr, "obr record: --rotate-mb needs a positive number of MB (10^6 bytes), got '%s'\n", argv[i]);
        return 2;
      }
      rotation.max_bytes = static_cast<std::uint64_t>(mb * 1e6);
    } else if (a == "--rotate-every" && has_value) {
      if (!engine::parse_duration_ns(argv[++i], rotation.every_ns)) {
        std::fprintf(stderr,
                     "obr record: --rotate-every needs a duration with its unit (ns, us, ms, s, m, h: 1h, 30s, "
                     "500ms), got '%s'\n",
                     argv[i]);
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
  apply_live_options(live, *config);
  PrintingListener listener(stderr);
  engine::Engine eng(*config, &listener);
  if (const int status = start_listening("record", eng, *config); status != 0) return status;
  if (absl::Status st = eng.record_to(out_path, rotation); !st.ok()) {
    std::fprintf(stderr, "obr record: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  std::fprintf(stderr, "obr record: recording to %s%s%s\n", eng.recording_files().front().c_str(),
               rotation.on() ? " (and the parts after it)" : "", seconds > 0 ? "" : " until Ctrl-C");
  std::vector<FinalBook> final_books;
  run_engine(
      eng, seconds, [](std::int64_t) {},
      [&] {
        eng.for_each_book([&](std::string_view venue, std::string_view symbol, const book::OrderBook& b) {
          final_books.push_back({std::string(venue), std::string(symbol), b.state(), b.counters()});
        });
      });
  const absl::Status closed = eng.close_recording();
  const engine::EngineStats s = eng.stats();
  const std::vector<std::string> files = eng.recording_files();
  if (rotation.on()) {
    for (const std::string& f : files) std::printf("obr record: part %s\n", f.c_str());
  }
  const std::string written =
      rotation.on() ? out_path + " (" + std::to_string(files.size()) + " part(s), listed above)" : out_path;
  std::printf("obr record: %s: %" PRIu64 " frames, %" PRIu64 " bytes received, %" PRIu64 " malformed, %" PRIu64
              " reconnects; each book as it was before shutdown:\n",
              written.c_str(), s.frames, s.bytes, s.malformed, s.reconnects);
  std::uint64_t failed = 0;
  std::size_t validated = 0;
  for (const FinalBook& b : final_books) {
    std::printf("  %-7s %-10s %-17s updates %" PRIu64 " checks passed %" PRIu64 " failed %" PRIu64 "\n",
                b.venue.c_str(), b.symbol.c_str(), std::string(book::to_string(b.state)).c_str(), b.counters.updates,
                b.counters.checks_passed, b.counters.checks_failed);
    failed += b.counters.checks_failed;
    validated += b.counters.checks_passed != 0 ? 1 : 0;
  }
  if (!closed.ok()) {
    std::fprintf(stderr, "obr record: exit 1: %s\n", std::string(closed.message()).c_str());
    return 1;
  }
  if (failed != 0) {
    std::fprintf(stderr, "obr record: exit 1: %" PRIu64 " check(s) failed (the recording is complete)\n", failed);
    return 1;
  }
  if (validated == 0) {
    std::fprintf(stderr,
                 "obr record: exit 3: nothing was validated: no book passed a check (%zu book(s), %" PRIu64
                 " frames; see the state changes and errors above)\n",
                 final_books.size(), s.frames);
    return 3;
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
      "  --json             one JSON object per book per refresh, a line each (for scripts):\n"
      "                     t_s, venue, symbol, state, checks_passed, checks_failed, resyncs,\n"
      "                     last_update_ms (null before the first update), bids, asks\n"
      "                     ([[price, qty], ...] best first, exact decimal strings)\n"
      "  --config FILE      start from this engine configuration (endpoints, TLS, limits)\n"
      "  --endpoint VENUE=URL  override a venue's endpoint (repeatable): kraken=wss://HOST:PORT/v2\n"
      "                     (default wss://ws.kraken.com/v2), kucoin=https://HOST:PORT (its REST\n"
      "                     base; default https://api.kucoin.com)\n"
      "  --ca-file PEM      also trust this CA (e.g. the certificate `obr serve --cert` writes)\n"
      "\n"
      "Point it at the simulator:\n"
      "  obr serve --port 8443 --cert /tmp/obr-sim-cert.pem &\n"
      "  obr watch --endpoint kraken=wss://127.0.0.1:8443/v2 --endpoint kucoin=https://127.0.0.1:8443 \\\n"
      "            --ca-file /tmp/obr-sim-cert.pem kraken:BTC/USD kucoin:BTC-USDT\n"
      "\n"
      "Exit status: 0 after --seconds or Ctrl-C; 2 for usage errors or a configuration that\n"
      "cannot work (a bad endpoint URL, a CA file that does not load), refused before connecting.\n",
      out);
}

std::string level_text(const book::Level& l, const book::OrderBook& b) {
  return book::to_decimal_string(l.qty, b.qty_scale()) + " @ " + book::to_decimal_string(l.price, b.price_scale());
}

template <class Side>
void json_levels(std::string& out, const Side& side, const book::OrderBook& b, std::size_t levels) {
  out.push_back('[');
  for (std::size_t i = 0; i < levels && i < side.size(); ++i) {
    if (i) out.push_back(',');
    out += "[\"" + book::to_decimal_string(side.at(i).price, b.price_scale()) + "\",\"" +
           book::to_decimal_string(side.at(i).qty, b.qty_scale()) + "\"]";
  }
  out.push_back(']');
}

}  // namespace

int run_watch(int argc, char** argv) {
  engine::EngineConfig config;
  bool have_config = false, json = false;
  std::vector<std::string> books;
  LiveOptions live;
  double seconds = 0;
  long levels = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (const int r = parse_live_option("watch", argc, argv, i, live); r != 0) {
      if (r == 2) return 2;
      continue;
    }
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
    } else if (a == "--json") {
      json = true;
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
    for (engine::VenueConfig& v : config.venues) v.symbols.clear();
  }
  for (const std::string& ref : books) {
    const std::size_t colon = ref.find(':');
    const std::string venue = ref.substr(0, colon == std::string::npos ? 0 : colon);
    const std::string symbol = colon == std::string::npos ? "" : ref.substr(colon + 1);
    if (symbol.empty() || !engine::is_venue(venue)) {
      std::fprintf(stderr, "obr watch: '%s' is not VENUE:SYMBOL with VENUE one of %s (e.g. kraken:BTC/USD)\n",
                   ref.c_str(), engine::venue_names().c_str());
      return 2;
    }
    config.venue(venue).symbols.push_back(symbol);
  }
  if (std::all_of(config.venues.begin(), config.venues.end(),
                  [](const engine::VenueConfig& v) { return v.symbols.empty(); })) {
    std::fprintf(stderr, "obr watch: name at least one book, e.g. kraken:BTC/USD\n");
    watch_usage(stderr);
    return 2;
  }
  apply_live_options(live, config);

  PrintingListener listener(stderr);
  engine::Engine eng(config, &listener);
  if (const int status = start_listening("watch", eng, config); status != 0) return status;
  const bool tty = !json && ::isatty(STDOUT_FILENO) != 0;
  std::string line;
  run_engine(
      eng, seconds,
      [&](std::int64_t elapsed_ns) {
        if (json) {
          const std::int64_t now = net::now_ns();
          eng.for_each_book([&](std::string_view venue, std::string_view symbol, const book::OrderBook& b) {
            engine::TopOfBook top;
            eng.top(venue, symbol, top);
            char head[96];
            std::snprintf(head, sizeof head, "{\"t_s\":%.1f,\"venue\":", static_cast<double>(elapsed_ns) / 1e9);
            line = head;
            engine::append_json_string(line, venue);
            line += ",\"symbol\":";
            engine::append_json_string(line, symbol);
            line += ",\"state\":\"" + std::string(book::to_string(b.state())) + "\"";
            line += ",\"checks_passed\":" + std::to_string(b.counters().checks_passed);
            line += ",\"checks_failed\":" + std::to_string(b.counters().checks_failed);
            line += ",\"resyncs\":" + std::to_string(b.counters().resyncs_requested);
            line += ",\"last_update_ms\":";
            if (top.updated_ns > 0) {
              char age[32];
              std::snprintf(age, sizeof age, "%.1f", static_cast<double>(now - top.updated_ns) / 1e6);
              line += age;
            } else {
              line += "null";
            }
            line += ",\"bids\":";
            json_levels(line, b.bids(), b, static_cast<std::size_t>(levels));
            line += ",\"asks\":";
            json_levels(line, b.asks(), b, static_cast<std::size_t>(levels));
            line += "}\n";
            std::fputs(line.c_str(), stdout);
          });
          std::fflush(stdout);
          return;
        }
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
          char age[48] = "never updated";
          if (top.updated_ns > 0) {
            std::snprintf(age, sizeof age, "last update %.0f ms ago", static_cast<double>(now - top.updated_ns) / 1e6);
          }
          std::printf("\n%s %s  %s  checks passed %" PRIu64 " failed %" PRIu64 "  resyncs %" PRIu64 "  %s\n",
                      std::string(venue).c_str(), std::string(symbol).c_str(),
                      std::string(book::to_string(b.state())).c_str(), b.counters().checks_passed,
                      b.counters().checks_failed, b.counters().resyncs_requested, age);
          std::printf("  %32s | %-32s\n", "bid (qty @ price)", "ask (qty @ price)");
          for (std::size_t i = 0; i < static_cast<std::size_t>(levels); ++i) {
            const std::string bid = i < b.bids().size() ? level_text(b.bids().at(i), b) : "";
            const std::string ask = i < b.asks().size() ? level_text(b.asks().at(i), b) : "";
            std::printf("  %32s | %-32s\n", bid.c_str(), ask.c_str());
          }
        });
        std::fflush(stdout);
      },
      [] {});
  return 0;
}

}  // namespace obr::tools

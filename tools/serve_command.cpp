// tools/serve_command.cpp — `obr serve`: the exchange simulator as a standalone server on
// loopback, for trying a client (obr's or another) against Kraken v2 and KuCoin with faults.
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/net/event_loop.h"
#include "tools/commands.h"
#include "tools/sim/recorded_market.h"
#include "tools/sim/simulator.h"
#include "tools/sim/venue_pieces.h"

namespace obr::tools {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

// entry_label: how the start-up lines introduce a venue's URL ("<label>: URL").
std::string entry_label(const sim::VenuePieceFactory& piece) {
  return std::string(piece.entry_label.empty() ? piece.name : piece.entry_label) + ":";
}

// book_messages_text: "N1 Name1, N2 Name2 and N3 Name3" over the venues, in the list's order.
std::string book_messages_text(const sim::SimStats& stats) {
  const auto pieces = sim::venue_pieces();
  std::string out;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0) out += i + 1 == pieces.size() ? " and " : ", ";
    out += std::to_string(stats.venues.at(std::string(pieces[i].name)).book_messages) + " " +
           std::string(pieces[i].display_name);
  }
  return out;
}

void serve_usage(std::FILE* out) {
  std::fputs(
      "usage: obr serve [--host IP] [--port N] [--no-tls] [--cert FILE] [--seed S] [--rate N]\n"
      "                 [--seconds N] [--fault SPEC]... [--faults FILE] [--market FILE]... [--speed X]\n"
      "\n"
      "A local exchange: Kraken v2 WebSocket on /v2; KuCoin POST /api/v1/bullet-public, its\n"
      "WebSocket on /kucoin/ws, and GET /api/v1/market/orderbook/level2_100 and\n"
      "/api/v3/market/orderbook/level2 (wants a KC-API-KEY header); Binance spot combined\n"
      "streams on /stream with GET /api/v3/depth, and USD-M on /fstream with GET /fapi/v1/depth;\n"
      "Bybit v5 order books on /v5/public/spot, /v5/public/linear and /v5/public/inverse.\n"
      "A seeded synthetic market: Kraken BTC/USD ETH/USD XRP/USD, KuCoin BTC-USDT ETH-USDT\n"
      "SOL-USDT, Binance (spot and USD-M) and Bybit (spot, linear) BTCUSDT ETHUSDT SOLUSDT,\n"
      "Bybit inverse BTCUSD ETHUSD XRPUSD; or recordings.\n"
      "\n"
      "  --host IP       listen address (default 127.0.0.1; loopback unless you say otherwise)\n"
      "  --port N        listen port (default 0: any free port, printed at start)\n"
      "  --no-tls        plain ws:// and http://\n"
      "  --cert FILE     where to write the generated self-signed certificate (default\n"
      "                  obr-sim-cert.pem); clients must trust it (obr: tls.ca_file)\n"
      "  --seed S        market seed (default 1)\n"
      "  --rate N        market changes per second per venue (default 400)\n"
      "  --seconds N     stop after N seconds (default: until Ctrl-C)\n"
      "  --fault SPEC    inject a fault; repeatable. SPEC is KIND[=ARG][@TRIGGER][,venue=V][,symbol=S]\n"
      "                  KIND: drop corrupt_checksum skip_sequence duplicate reorder stall close\n"
      "                  close_code maintenance malformed oversized refuse_token expire_token\n"
      "                  fail_endpoint rest_429 rest_418 rest_500 stale_snapshot refuse_topic\n"
      "                  unprompted_snapshot restart_snapshot\n"
      "                  TRIGGER: t=2s | t=300ms | msg=500 (book messages sent); none = at once\n"
      "                  e.g. --fault corrupt_checksum@t=5s,symbol=BTC/USD --fault stall=3s@t=10s,venue=kucoin\n"
      "  --faults FILE   a schedule file: one SPEC per line, # comments and blank lines skipped;\n"
      "                  a bad line is reported as FILE:LINE\n"
      "  --market FILE   serve a recording instead of the synthetic market; repeatable. Any file\n"
      "                  `obr replay` reads (raw, cryptofeed with its .http. file, obr recording).\n"
      "                  Kraken (v1 or v2) books replace the synthetic Kraken market, KuCoin books\n"
      "                  the KuCoin one; each validated step becomes one market change, paced by\n"
      "                  --rate, and the recording loops (README: the exchange simulator)\n"
      "  --speed X       play the --market recording at X times its recorded pace instead of\n"
      "                  --rate (cryptofeed files and obr recordings have times; raw captures\n"
      "                  do not); X in (0, 1e6], e.g. 1 for real time, 10 for ten times faster\n",
      out);
}

}  // namespace

int run_serve(int argc, char** argv) {
  sim::SimConfig config;
  config.cert_file = "obr-sim-cert.pem";
  double seconds = 0;
  std::vector<std::string> market_files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      serve_usage(stdout);
      return 0;
    }
    if (a == "--no-tls") {
      config.tls = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "obr serve: %s needs a value (or is unknown)\n", a.c_str());
      serve_usage(stderr);
      return 2;
    }
    const std::string v = argv[++i];
    char* end = nullptr;
    if (a == "--host") {
      config.host = v;
    } else if (a == "--port") {
      const unsigned long p = std::strtoul(v.c_str(), &end, 10);
      if (*end != 0 || p > 65535) {
        std::fprintf(stderr, "obr serve: --port '%s' is not 0..65535\n", v.c_str());
        return 2;
      }
      config.port = static_cast<std::uint16_t>(p);
    } else if (a == "--cert") {
      config.cert_file = v;
    } else if (a == "--seed") {
      config.seed = std::strtoull(v.c_str(), &end, 10);
    } else if (a == "--rate") {
      if (!parse_number(v.c_str(), 0, 1e6, config.changes_per_s) || !(config.changes_per_s > 0)) {
        std::fprintf(stderr, "obr serve: --rate '%s' is not a number in (0, 1e6]\n", v.c_str());
        return 2;
      }
    } else if (a == "--speed") {
      if (!parse_number(v.c_str(), 0, 1e6, config.speed) || !(config.speed > 0)) {
        std::fprintf(stderr, "obr serve: --speed '%s' is not a number in (0, 1e6]\n", v.c_str());
        return 2;
      }
    } else if (a == "--seconds") {
      if (!parse_number(v.c_str(), 0, HUGE_VAL, seconds) || !(seconds > 0)) {
        std::fprintf(stderr, "obr serve: --seconds '%s' is not a positive number\n", v.c_str());
        return 2;
      }
    } else if (a == "--fault") {
      std::string error;
      auto f = sim::parse_fault(v, error);
      if (!f) {
        std::fprintf(stderr, "obr serve: %s\n", error.c_str());
        return 2;
      }
      config.faults.push_back(*f);
    } else if (a == "--faults") {
      std::string error;
      auto fs = sim::load_faults(v, error);
      if (!fs) {
        std::fprintf(stderr, "obr serve: %s\n", error.c_str());
        return 2;
      }
      config.faults.insert(config.faults.end(), fs->begin(), fs->end());
    } else if (a == "--market") {
      market_files.push_back(v);
    } else {
      std::fprintf(stderr, "obr serve: unknown option '%s'\n", a.c_str());
      serve_usage(stderr);
      return 2;
    }
  }
  if (config.speed > 0 && market_files.empty()) {
    std::fprintf(stderr, "obr serve: --speed plays a recording at its recorded pace: give it with --market FILE\n");
    return 2;
  }
  if (!market_files.empty()) {
    auto loaded = sim::use_recordings(market_files, config);
    if (!loaded.ok()) {
      std::fprintf(stderr, "obr serve: %s\n", std::string(loaded.status().message()).c_str());
      return 2;
    }
    for (const sim::VenuePieceFactory& piece : sim::venue_pieces()) {
      const auto m = loaded->market(piece.name);
      if (!m) continue;
      std::printf("%.*s: recorded market, %zu books, %zu steps per lap", static_cast<int>(piece.name.size()),
                  piece.name.data(), m->symbol_count(), m->step_count());
      if (config.speed > 0) {
        std::printf(", %.1f s per lap at %g x its recorded pace", static_cast<double>(m->lap_ns()) / 1e9 / config.speed,
                    config.speed);
      }
      std::printf("\n");
    }
  }
  net::EventLoop loop;
  sim::Simulator simulator(loop, config);
  std::string error;
  if (!simulator.start(error)) {
    std::fprintf(stderr, "obr serve: %s\n", error.c_str());
    return 2;
  }
  // One line per venue, "<label>: URL<note>", the URLs aligned: scripts read these lines
  // (e.g. "kraken v2:    wss://127.0.0.1:PORT/v2"), so their words stay put; the blanks
  // after a label grow with the longest label, so a script must allow any number of them.
  std::size_t label_width = 0;
  for (const sim::VenuePieceFactory& piece : sim::venue_pieces()) {
    label_width = std::max(label_width, entry_label(piece).size());
  }
  for (const sim::VenuePieceFactory& piece : sim::venue_pieces()) {
    std::printf("%-*s %s%.*s\n", static_cast<int>(label_width), entry_label(piece).c_str(),
                simulator.url(piece.name).c_str(), static_cast<int>(piece.entry_note.size()), piece.entry_note.data());
  }
  for (const sim::VenuePieceFactory& piece : sim::venue_pieces()) {
    std::string names;
    for (const std::string& n : simulator.symbols(piece.name)) names += " " + n;
    std::printf("%.*s books:%s\n", static_cast<int>(piece.name.size()), piece.name.data(), names.c_str());
  }
  if (config.tls) std::printf("certificate: %s\n", simulator.cert_file().c_str());
  std::fflush(stdout);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const std::int64_t end = seconds > 0 ? net::now_ns() + static_cast<std::int64_t>(seconds * 1e9) : INT64_MAX;
  while (g_stop == 0 && net::now_ns() < end) loop.run_for(100'000'000);
  const auto& s = simulator.stats();
  std::uint64_t snapshots = 0;
  for (const auto& [venue, v] : s.venues) snapshots += v.snapshots_served;
  std::printf("served %llu connections, %s book messages, %llu snapshots; %zu faults fired\n",
              static_cast<unsigned long long>(s.connections), book_messages_text(s).c_str(),
              static_cast<unsigned long long>(snapshots), simulator.fired().size());
  for (const auto& f : simulator.fired()) std::printf("  fired: %s\n", f.fault.spec.c_str());
  return 0;
}

}  // namespace obr::tools

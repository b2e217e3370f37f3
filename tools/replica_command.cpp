// tools/replica_command.cpp — `obr replica`: books kept from the bus (docs/bus.md "obr
// replica"): obr::replica::Replica on the command line.
//
//   obr replica --nats nats://127.0.0.1:4222 kraken:BTC/USD kucoin:BTC-USDT
//   obr replica --nats nats://a:4222,nats://b:4222 --all --seconds 30 --json
//
// State changes go to stderr as they happen; at the end (--seconds, or SIGINT/SIGTERM) a
// table of the books (state, epoch, sequence, best bid and ask) or, with --json, one JSON
// object. Exit status: 0 when every book asked for (with --all: at least one seen) is live
// at the end, 1 otherwise, 2 for a usage error, 3 when the bus could not be reached,
// kExitInterrupted when stopped by a signal (the summary is printed first).
#include <absl/strings/str_split.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "book/decimal.h"
#include "engine/bus/replica.h"
#include "engine/json_text.h"
#include "tools/commands.h"

namespace obr::tools {
namespace {

void replica_usage(std::FILE* out) {
  std::fputs(
      "usage: obr replica --nats URL[,URL...] [--json] [--seconds N] [--prefix P] [--bucket B]\n"
      "                   [--heartbeat-ms N] (VENUE:SYMBOL... | --all)\n"
      "\n"
      "Keeps books from the bus that `obr run` engines publish (docs/bus.md): buffers each\n"
      "book's changes, takes a snapshot from its owner, bridges them by sequence and resyncs on\n"
      "any gap, drop, new owner or silence. A book is shown live only while its source says\n"
      "live and its own sequence is unbroken.\n"
      "\n"
      "  --nats URLS        NATS servers, comma-separated (nats://127.0.0.1:4222)\n"
      "  --all              every book on the bus, as engines publish them\n"
      "  --seconds N        stop after N seconds (default: until SIGINT or SIGTERM)\n"
      "  --json             the summary as one JSON object\n"
      "  --prefix P         the subjects' prefix (default obr)\n"
      "  --bucket B         the snapshots' key-value bucket (default obr_books)\n"
      "  --heartbeat-ms N   the engines' heartbeat interval (default 500): silence after 3\n"
      "\n"
      "Exit status: 0 every book live at the end; 1 not; 2 usage; 3 bus unreachable; 130 signal.\n",
      out);
}

std::string price_text(std::int64_t v, int scale) { return book::to_decimal_string(v, scale); }

class StateLog : public engine::Listener {
 public:
  void on_book_state(std::string_view venue, std::string_view symbol, book::BookState from, book::BookState to,
                     connectors::StateReason) override {
    std::fprintf(stderr, "%.*s:%.*s %s -> %s\n", static_cast<int>(venue.size()), venue.data(),
                 static_cast<int>(symbol.size()), symbol.data(), std::string(book::to_string(from)).c_str(),
                 std::string(book::to_string(to)).c_str());
  }
};

}  // namespace

int run_replica(int argc, char** argv) {
  replica::ReplicaSettings s;
  bool json = false;
  double seconds = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "obr replica: %s needs a value\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      replica_usage(stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--all") {
      s.all = true;
    } else if (a == "--nats") {
      const char* v = value("--nats");
      if (v == nullptr) return 2;
      for (absl::string_view u : absl::StrSplit(v, ',', absl::SkipEmpty())) {
        if (!(u.substr(0, 7) == "nats://" || u.substr(0, 6) == "tls://")) {
          std::fprintf(stderr, "obr replica: --nats: '%s' is not a nats:// or tls:// URL\n", std::string(u).c_str());
          return 2;
        }
        s.nats.servers.emplace_back(u);
      }
    } else if (a == "--seconds") {
      const char* v = value("--seconds");
      if (v == nullptr) return 2;
      if (!parse_number(v, 0.1, 1e7, seconds)) {
        std::fprintf(stderr, "obr replica: --seconds: '%s' is not a number of seconds in [0.1, 1e7]\n", v);
        return 2;
      }
    } else if (a == "--prefix") {
      const char* v = value("--prefix");
      if (v == nullptr) return 2;
      s.subject_prefix = v;
    } else if (a == "--bucket") {
      const char* v = value("--bucket");
      if (v == nullptr) return 2;
      s.books_bucket = v;
    } else if (a == "--heartbeat-ms") {
      const char* v = value("--heartbeat-ms");
      double ms = 0;
      if (v == nullptr) return 2;
      if (!parse_number(v, 10, 60'000, ms)) {
        std::fprintf(stderr, "obr replica: --heartbeat-ms: '%s' is not a number in [10, 60000]\n", v);
        return 2;
      }
      s.heartbeat_ns = static_cast<std::int64_t>(ms * 1e6);
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "obr replica: unknown option '%s'\n", a.c_str());
      replica_usage(stderr);
      return 2;
    } else {
      const std::size_t colon = a.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == a.size()) {
        std::fprintf(stderr, "obr replica: '%s' is not VENUE:SYMBOL (kraken:BTC/USD)\n", a.c_str());
        return 2;
      }
      s.books.emplace_back(a.substr(0, colon), a.substr(colon + 1));
    }
  }
  if (s.nats.servers.empty()) {
    std::fprintf(stderr, "obr replica: --nats URL is required\n");
    return 2;
  }
  if (s.books.empty() == !s.all) {
    std::fprintf(stderr, "obr replica: name the books (VENUE:SYMBOL...) or --all, not both or neither\n");
    return 2;
  }
  s.nats.retry_first_connect = false;  // an unreachable bus is an error here, not a wait
  const std::atomic<bool>& interrupted = install_interrupt_handlers();
  StateLog log;
  replica::Replica r(s, &log);
  if (absl::Status st = r.start(); !st.ok()) {
    std::fprintf(stderr, "obr replica: %s\n", std::string(st.message()).c_str());
    return 3;
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!interrupted.load() && (seconds == 0 || std::chrono::steady_clock::now() < until)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // The summary: every book named, or every book seen.
  std::vector<std::pair<std::string, std::string>> books = s.books;
  const replica::ReplicaStats st = r.stats();
  const engine::LatencyHistogram lat = r.latency();
  struct Row {
    std::string venue, symbol, state, bid, ask;
    bool known = false;
  };
  std::vector<Row> rows;
  std::size_t live = 0;
  auto row_of = [&](const std::string& venue, const std::string& symbol) {
    Row row{venue, symbol, "unknown", "", "", false};
    engine::TopOfBook top;
    if (r.top(venue, symbol, top)) {
      row.known = true;
      row.state = std::string(book::to_string(top.state));
      if (top.bid_count > 0) row.bid = price_text(top.bids[0].price, top.price_scale);
      if (top.ask_count > 0) row.ask = price_text(top.asks[0].price, top.price_scale);
      live += top.state == book::BookState::kLive ? 1 : 0;
    }
    rows.push_back(row);
  };
  if (s.all) {
    r.for_each_name([&](const std::string& venue, const std::string& symbol) { books.emplace_back(venue, symbol); });
  }
  for (const auto& [venue, symbol] : books) row_of(venue, symbol);
  r.stop();
  const bool ok = !rows.empty() && live == rows.size();
  if (json) {
    std::printf(
        "{\"books\":%zu,\"books_live\":%zu,\"messages\":%llu,\"malformed\":%llu,\"resyncs\":%llu,"
        "\"gaps\":%llu,\"epoch_changes\":%llu,\"stale_epoch\":%llu,\"snapshot_requests\":%llu,"
        "\"bucket_reads\":%llu,\"dropped_by_client\":%llu,\"nats_reconnects\":%llu,"
        "\"bus_latency_us_p50\":%.1f,\"bus_latency_us_p99\":%.1f,\"book_states\":[",
        rows.size(), live, static_cast<unsigned long long>(st.messages), static_cast<unsigned long long>(st.malformed),
        static_cast<unsigned long long>(st.resyncs), static_cast<unsigned long long>(st.gaps),
        static_cast<unsigned long long>(st.epoch_changes), static_cast<unsigned long long>(st.stale_epoch),
        static_cast<unsigned long long>(st.snapshot_requests), static_cast<unsigned long long>(st.bucket_reads),
        static_cast<unsigned long long>(st.dropped_by_client), static_cast<unsigned long long>(st.nats_reconnects),
        static_cast<double>(lat.quantile(0.5)) / 1e3, static_cast<double>(lat.quantile(0.99)) / 1e3);
    std::string books_json;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      books_json += i ? ",{\"venue\":" : "{\"venue\":";
      engine::append_json_string(books_json, rows[i].venue);
      books_json += ",\"symbol\":";
      engine::append_json_string(books_json, rows[i].symbol);
      books_json += ",\"state\":\"" + rows[i].state + "\",\"best_bid\":\"" + rows[i].bid + "\",\"best_ask\":\"" +
                    rows[i].ask + "\"}";
    }
    std::printf("%s]}\n", books_json.c_str());
  } else {
    for (const Row& row : rows) {
      std::printf("%-10s %-16s %-18s bid %-16s ask %s\n", row.venue.c_str(), row.symbol.c_str(), row.state.c_str(),
                  row.bid.empty() ? "-" : row.bid.c_str(), row.ask.empty() ? "-" : row.ask.c_str());
    }
    std::printf(
        "replica: %zu/%zu books live, %llu messages, %llu resyncs, %llu gaps, %llu malformed, "
        "bus latency p50 %.1f us p99 %.1f us\n",
        live, rows.size(), static_cast<unsigned long long>(st.messages), static_cast<unsigned long long>(st.resyncs),
        static_cast<unsigned long long>(st.gaps), static_cast<unsigned long long>(st.malformed),
        static_cast<double>(lat.quantile(0.5)) / 1e3, static_cast<double>(lat.quantile(0.99)) / 1e3);
  }
  if (interrupted.load()) return kExitInterrupted;
  return ok ? 0 : 1;
}

}  // namespace obr::tools

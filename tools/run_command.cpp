// tools/run_command.cpp — `obr run --config FILE`: the engine as a service
// (docs/operations.md). It keeps the books of the config file, serves /health and
// /metrics, records the run, sends the dead man's switch's requests, logs one line per
// state change and per error to stderr, and stops cleanly on SIGTERM or SIGINT with a
// summary line on stdout.
#include <absl/strings/str_join.h>

#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "connectors/net/event_loop.h"
#include "engine/deadman.h"
#include "engine/engine.h"
#include "engine/json_text.h"
#include "engine/listener_tee.h"
#include "engine/service_config.h"
#include "engine/time_text.h"
#include "tools/commands.h"
#ifdef OBR_HAS_BUS
#include "engine/bus/bus_node.h"
#endif

namespace obr::tools {
namespace {

// log_line: "2024-05-01T12:00:00.123Z obr run: TEXT" on stderr, written whole.
void log_line(std::string_view text) {
  char when[engine::kIsoTimeChars];
  engine::format_iso8601_ns(net::now_ns(), when);
  std::memcpy(when + 23, "Z", 2);  // milliseconds are enough for a log
  std::string line = std::string(when) + " obr run: ";
  line.append(text);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

// cat: the parts joined (one allocation; GCC's -Wrestrict misreads chains of operator+).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::size_t n = 0;
  for (std::string_view p : parts) n += p.size();
  std::string out;
  out.reserve(n);
  for (std::string_view p : parts) out.append(p);
  return out;
}

// ServiceListener logs every state change, connection change, venue status and error
// (never a book update) and counts them.
class ServiceListener : public engine::Listener {
 public:
  void on_book_state(std::string_view venue, std::string_view symbol, book::BookState from, book::BookState to,
                     connectors::StateReason reason) override {
    ++state_changes;
    log_line(cat({"[", venue, " ", symbol, "] ", book::to_string(from), " -> ", book::to_string(to), " (",
                  connectors::to_string(reason), ")"}));
  }
  void on_connection(std::string_view venue, engine::ConnectionState state, std::string_view detail) override {
    log_line(cat({"[", venue, "] connection ", engine::to_string(state), detail.empty() ? "" : ": ", detail}));
  }
  void on_error(const engine::EngineError& e) override {
    ++errors;
    log_line(cat(
        {"[", e.venue, e.symbol.empty() ? "" : " ", e.symbol, "] ", engine::to_string(e.kind), " error: ", e.detail}));
  }
  void on_venue_status(std::string_view venue, std::string_view status) override {
    log_line(cat({"[", venue, "] venue status ", status}));
  }
  std::uint64_t state_changes = 0;
  std::uint64_t errors = 0;
};

// ---- The NATS bus ------------------------------------------------------------------------
// With a "bus" section (docs/bus.md) the engine starts with no book: the config's symbols
// are the books it may own, subscribed when it takes their shards' leases. The node is
// built before the engine (it is one of the engine's listeners), attached once the engine
// is built, and stopped on the engine's thread before the engine stops, so its last
// messages (every book stale) go out in order.
#ifdef OBR_HAS_BUS
struct Bus {
  std::unique_ptr<bus::BusNode> node;
};
absl::Status check_bus(const engine::BusSettings& settings) {
  (void)settings;
  return absl::OkStatus();
}
absl::StatusOr<std::unique_ptr<bus::BusNode>> make_bus(const engine::BusSettings& b, engine::EngineConfig& config) {
  bus::BusNodeSettings s;
  s.nats.servers = b.nats;
  s.nats.writes = b.writes == "asap"      ? bus::NatsSettings::Writes::kAsap
                  : b.writes == "batched" ? bus::NatsSettings::Writes::kClientBatch
                                          : bus::NatsSettings::Writes::kFlushThread;
  s.engine_id = b.engine_id;
  s.shards = static_cast<std::uint32_t>(b.shards);
  s.lease_ttl_ns = b.lease_ttl_ns;
  s.snapshot_every_changes = b.snapshot_every_changes;
  s.snapshot_every_ns = b.snapshot_every_ns;
  s.heartbeat_ns = b.heartbeat_ns;
  s.books_bucket = b.books_bucket;
  s.leases_bucket = b.leases_bucket;
  s.subject_prefix = b.subject_prefix;
  s.replicas = b.replicas;
  for (engine::VenueConfig& v : config.venues) {
    s.universe.emplace_back(v.venue, std::move(v.symbols));
    v.symbols.clear();  // subscribed shard by shard, as the leases are taken
  }
  return bus::BusNode::create(s);
}
#else
struct Bus {};
absl::Status check_bus(const engine::BusSettings& settings) {
  (void)settings;
  return absl::UnimplementedError(
      "bus: this obr is built without the NATS bus (docs/bus.md); remove the \"bus\" section to run without it");
}
#endif

// start_recording: the run recorded to settings.path (docs/recording.md), rotated after
// rotate_bytes and every rotate_every_ns when the engine offers rotation.
absl::Status start_recording(engine::Engine& eng, const engine::RecordSettings& settings) {
  engine::RecordingRotation rotation;
  rotation.max_bytes = settings.rotate_bytes;
  rotation.every_ns = settings.rotate_every_ns;
  return rotation.on() ? eng.record_to(settings.path, rotation) : eng.record_to(settings.path);
}

void usage(std::FILE* out) {
  std::fputs(
      "usage: obr run --config FILE [--seconds N] [--json]\n"
      "\n"
      "Runs the engine as a service (docs/operations.md): the books of the config file, /health\n"
      "and /metrics on its http_listen, the run recorded when the file has a \"record\" section,\n"
      "and a request to a monitor every interval while every covered book is live when it has a\n"
      "\"deadman\" section. One line per state change and per error goes to stderr, with its time;\n"
      "a summary line goes to stdout when it stops.\n"
      "\n"
      "  --config FILE   the service's configuration (JSON: the engine's keys, engine/config_file.h,\n"
      "                  and the sections record, deadman and bus, engine/service_config.h)\n"
      "  --seconds N     stop after N seconds (default: until SIGTERM or SIGINT)\n"
      "  --json          the summary as one JSON object\n"
      "\n"
      "Exit status: 0 after a clean stop (SIGTERM, SIGINT or --seconds) with the recording, if\n"
      "any, complete and at least one book validated; 1 when writing the recording failed; 2 for\n"
      "bad arguments or a configuration that cannot work (refused before connecting, with the\n"
      "file and key named); 3 when no book was validated during the run.\n",
      out);
}

struct FinalBook {
  std::string venue, symbol;
  book::BookState state;
  book::BookCounters counters;
};

}  // namespace

int run_run(int argc, char** argv) {
  std::string config_path;
  double seconds = 0;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    } else if (a == "--config" && has_value) {
      config_path = argv[++i];
    } else if (a == "--seconds" && has_value) {
      if (!parse_number(argv[++i], 0, HUGE_VAL, seconds) || seconds <= 0) {
        std::fprintf(stderr, "obr run: --seconds needs a positive number of seconds, got '%s'\n", argv[i]);
        return 2;
      }
    } else if (a == "--json") {
      json = true;
    } else {
      std::fprintf(stderr, "obr run: unknown or incomplete option '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "obr run: --config is required\n");
    usage(stderr);
    return 2;
  }
  absl::StatusOr<engine::ServiceConfig> config = engine::load_service_config(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "obr run: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  if (config->bus) {  // refused before anything starts (start_bus says why)
    if (absl::Status st = check_bus(*config->bus); !st.ok()) {
      std::fprintf(stderr, "obr run: %s: %s\n", config_path.c_str(), std::string(st.message()).c_str());
      return 2;
    }
  }

  const std::atomic<bool>& interrupted = install_interrupt_handlers();
  ServiceListener listener;
  engine::ListenerTee listeners({&listener});
  Bus bus;
#ifdef OBR_HAS_BUS
  if (config->bus) {
    auto node = make_bus(*config->bus, config->engine);
    if (!node.ok()) {
      std::fprintf(stderr, "obr run: bus: %s\n", std::string(node.status().message()).c_str());
      return 2;
    }
    bus.node = std::move(*node);
    listeners.add(bus.node.get());
  }
#endif
  engine::Engine eng(config->engine, &listeners);
  if (absl::Status st = eng.config_status(); !st.ok()) {
    std::fprintf(stderr, "obr run: %s: %s\n", config_path.c_str(), std::string(st.message()).c_str());
    return 2;
  }
  const std::string& listen = config->engine.http_listen;
  if (!listen.empty()) {
    if (absl::Status st = eng.start_http(); !st.ok()) {
      std::fprintf(stderr, "obr run: http_listen '%s': %s\n", listen.c_str(), std::string(st.message()).c_str());
      return 2;
    }
    log_line("/health and /metrics on http://" + listen.substr(0, listen.rfind(':')) + ":" +
             std::to_string(eng.http_port()));
  }
  if (config->record) {
    if (absl::Status st = start_recording(eng, *config->record); !st.ok()) {
      std::fprintf(stderr, "obr run: record.path: %s\n", std::string(st.message()).c_str());
      return 2;
    }
    log_line("recording to " + config->record->path);
  }
  std::unique_ptr<engine::Deadman> deadman;
  if (config->deadman) {
    deadman = std::make_unique<engine::Deadman>(eng, *config->deadman, config->engine.tls,
                                                [](std::string_view line) { log_line(line); });
    eng.add_metrics([d = deadman.get()] { return d->metrics(); });
    deadman->start();
    log_line("deadman: " + config->deadman->method + " " + config->deadman->url + " every " +
             std::to_string(config->deadman->interval_ns / 1'000'000) + " ms while " +
             (config->deadman->books.empty() ? std::string("every book is live")
                                             : std::to_string(config->deadman->books.size()) + " book(s) are live"));
  }
#ifdef OBR_HAS_BUS
  if (bus.node) {  // after the engine, before it connects
    // The buckets and the leases need the server: wait for it (a service may start before
    // its NATS server), said once, until SIGTERM/SIGINT or --seconds.
    const std::int64_t wait_start = net::now_ns();
    bool said = false;
    while (!bus.node->connected()) {
      if (!said) {
        log_line("bus: waiting for the NATS server at " + absl::StrJoin(config->bus->nats, ","));
        said = true;
      }
      const bool timed_out = seconds > 0 && static_cast<double>(net::now_ns() - wait_start) / 1e9 >= seconds;
      if (interrupted.load() || timed_out) {
        std::fprintf(stderr,
                     "obr run: exit 3: stopped by %s while waiting for the NATS server; no book was validated\n",
                     timed_out ? "--seconds" : "a signal");
        return 3;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (absl::Status st = bus.node->attach(eng); !st.ok()) {
      std::fprintf(stderr, "obr run: bus: %s\n", std::string(st.message()).c_str());
      return 2;
    }
    eng.add_metrics([n = bus.node.get()] { return n->metrics(); });
    log_line("bus: engine " + config->bus->engine_id + " on " + config->bus->nats.front() + ", " +
             std::to_string(config->bus->shards) + " shards, lease TTL " +
             std::to_string(config->bus->lease_ttl_ns / 1'000'000) + " ms");
  }
#endif
  std::size_t books = 0;
  eng.for_each_book([&](std::string_view, std::string_view, const book::OrderBook&) { ++books; });
  log_line("started: " + std::to_string(books) + " book(s)" +
           (seconds > 0 ? ", for " + engine::number_text(seconds) + " s" : ", until SIGTERM or SIGINT"));

  // The run: this thread runs the engine; a 100 ms timer watches for the signal and the end.
  net::Timer poll(eng.loop());
  const std::int64_t start_ns = net::now_ns();
  const std::int64_t limit_ns = seconds > 0 ? static_cast<std::int64_t>(seconds * 1e9) : 0;
  bool by_signal = false, stopping = false, recording_failed_logged = false;
  std::vector<FinalBook> final_books;
  std::function<void()> check = [&] {
    if (config->record && !recording_failed_logged) {
      if (absl::Status st = eng.recording_status(); !st.ok()) {  // logged once; the books are still served
        recording_failed_logged = true;
        log_line("record: " + std::string(st.message()));
      }
    }
    const std::int64_t now = net::now_ns();
    const bool signalled = interrupted.load(std::memory_order_relaxed);
    if (!stopping && (signalled || (limit_ns > 0 && now - start_ns >= limit_ns))) {
      stopping = true;
      by_signal = signalled;
      log_line(signalled ? "stopping: signal received" : "stopping: --seconds elapsed");
      if (deadman) deadman->stop();  // no request from here on: the books are about to go stale
#ifdef OBR_HAS_BUS
      if (bus.node) bus.node->stop();  // books sent stale, leases released, before the engine stops
#endif
      // stop() posts its work (close every connection); the books are read behind it, as
      // they were live, before the closes make them stale.
      eng.stop();
      eng.loop().post([&] {
        eng.for_each_book([&](std::string_view venue, std::string_view symbol, const book::OrderBook& b) {
          final_books.push_back({std::string(venue), std::string(symbol), b.state(), b.counters()});
        });
      });
      return;
    }
    poll.start_after(100'000'000, check);
  };
  poll.start_after(100'000'000, check);
  eng.run();
  const double ran_s = static_cast<double>(net::now_ns() - start_ns) / 1e9;

  const absl::Status recorded = config->record ? eng.close_recording() : absl::OkStatus();
  if (config->record) {
    const std::vector<std::string> files = eng.recording_files();
    if (files.size() > 1) {
      for (const std::string& f : files) log_line("record: part " + f);
    }
  }
  const engine::EngineStats s = eng.stats();
  std::size_t live = 0, validated = 0;
  for (const FinalBook& b : final_books) {
    live += b.state == book::BookState::kLive ? 1 : 0;
    validated += b.counters.checks_passed != 0 ? 1 : 0;
  }
  int status = 0;
  std::string why;
  if (!recorded.ok()) {
    status = 1;
    why = "the recording failed: " + std::string(recorded.message());
  } else if (validated == 0) {
    status = 3;
    why = "no book was validated (" + std::to_string(final_books.size()) + " book(s), " + std::to_string(s.frames) +
          " frames; see the state changes and errors above)";
  }
  const engine::DeadmanStats d = deadman ? deadman->stats() : engine::DeadmanStats{};
  const char* stopped_by = by_signal ? "signal" : "seconds";
  if (json) {
    std::string out = "{\"stopped_by\":\"" + std::string(stopped_by) + "\"";
    char ran[32];
    std::snprintf(ran, sizeof ran, "%.1f", ran_s);
    out += ",\"seconds\":" + std::string(ran);
    out += ",\"books\":" + std::to_string(final_books.size()) + ",\"live_before_stop\":" + std::to_string(live) +
           ",\"validated\":" + std::to_string(validated);
    out += ",\"frames\":" + std::to_string(s.frames) + ",\"malformed\":" + std::to_string(s.malformed) +
           ",\"reconnects\":" + std::to_string(s.reconnects) +
           ",\"state_changes\":" + std::to_string(listener.state_changes) +
           ",\"errors\":" + std::to_string(listener.errors);
    out += ",\"deadman\":";
    if (deadman) {
      out += "{\"sent\":" + std::to_string(d.sent) + ",\"ok\":" + std::to_string(d.answered) +
             ",\"failed\":" + std::to_string(d.failed) + ",\"skipped\":" + std::to_string(d.skipped) + "}";
    } else {
      out += "null";
    }
    out += ",\"bus\":";
#ifdef OBR_HAS_BUS
    if (bus.node) {
      const bus::BusStats b = bus.node->stats();
      out += "{\"changes\":" + std::to_string(b.changes) + ",\"messages\":" + std::to_string(b.messages) +
             ",\"snapshots\":" + std::to_string(b.snapshots) + ",\"heartbeats\":" + std::to_string(b.heartbeats) +
             ",\"publish_failures\":" + std::to_string(b.publish_failures) +
             ",\"leases_acquired\":" + std::to_string(b.leases.acquired) +
             ",\"leases_lost\":" + std::to_string(b.leases.lost) +
             ",\"nats_reconnects\":" + std::to_string(b.nats_reconnects) + "}";
    } else {
      out += "null";
    }
#else
    out += "null";
#endif
    out += ",\"recording\":";
    if (config->record) {
      engine::append_json_string(out, config->record->path);
    } else {
      out += "null";
    }
    // Each book's state before the stop and its counters, as `obr replay --json` names them,
    // so that a recorded run is compared with its replay book by book.
    out += ",\"book_counters\":[";
    for (std::size_t i = 0; i < final_books.size(); ++i) {
      const FinalBook& b = final_books[i];
      out += i == 0 ? "{\"venue\":" : ",{\"venue\":";
      engine::append_json_string(out, b.venue);
      out += ",\"symbol\":";
      engine::append_json_string(out, b.symbol);
      out += ",\"state\":\"" + std::string(book::to_string(b.state)) +
             "\",\"snapshots\":" + std::to_string(b.counters.snapshots) +
             ",\"updates\":" + std::to_string(b.counters.updates) +
             ",\"checks_passed\":" + std::to_string(b.counters.checks_passed) +
             ",\"checks_failed\":" + std::to_string(b.counters.checks_failed) +
             ",\"resyncs_requested\":" + std::to_string(b.counters.resyncs_requested) + "}";
    }
    out += "]";
    if (config->record) {
      out += ",\"recording_files\":[";
      const std::vector<std::string> files = eng.recording_files();
      for (std::size_t i = 0; i < files.size(); ++i) {
        if (i != 0) out += ",";
        engine::append_json_string(out, files[i]);
      }
      out += "]";
    }
    out += ",\"exit\":" + std::to_string(status) + "}\n";
    std::fputs(out.c_str(), stdout);
  } else {
    std::string line = "obr run: stopped by " + std::string(by_signal ? "a signal" : "--seconds");
    char ran[32];
    std::snprintf(ran, sizeof ran, " after %.1f s: ", ran_s);
    line += ran;
    line += std::to_string(final_books.size()) + " books (" + std::to_string(live) + " live before stop, " +
            std::to_string(validated) + " validated), " + std::to_string(s.frames) + " frames, " +
            std::to_string(s.malformed) + " malformed, " + std::to_string(s.reconnects) + " reconnects, " +
            std::to_string(listener.state_changes) + " state changes, " + std::to_string(listener.errors) + " errors";
    if (deadman) {
      line += "; deadman " + std::to_string(d.sent) + " sent, " + std::to_string(d.answered) + " ok, " +
              std::to_string(d.failed) + " failed, " + std::to_string(d.skipped) + " skipped";
    }
#ifdef OBR_HAS_BUS
    if (bus.node) {
      const bus::BusStats b = bus.node->stats();
      line += "; bus " + std::to_string(b.changes) + " changes, " + std::to_string(b.snapshots) + " snapshots, " +
              std::to_string(b.leases.acquired) + " leases taken, " + std::to_string(b.leases.lost) + " lost, " +
              std::to_string(b.publish_failures) + " publish failures";
    }
#endif
    if (config->record) line += "; recorded to " + config->record->path;
    std::puts(line.c_str());
  }
  std::fflush(stdout);
  if (status != 0) {
    log_line("exit " + std::to_string(status) + ": " + why);
  } else {
    log_line("stopped cleanly");
  }
  return status;
}

}  // namespace obr::tools

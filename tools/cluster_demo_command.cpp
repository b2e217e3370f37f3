// tools/cluster_demo_command.cpp — `obr cluster-demo`: obr at scale on one machine
// (docs/bus.md "The cluster demo"). It starts nats-server (JetStream, loopback, a temporary
// store), the exchange simulator serving Kraken with N synthetic books and faults, K
// `obr run` engine processes sharing the books through leases, and C replicas in this
// process that check every live book they show against the simulator's truth. Mid-run it
// kills one engine with SIGKILL and restarts the NATS server, then pauses the market and
// judges every book.
//
// "Wrong book served", as `obr demo` counts it (tools/scenario.h): a replica callback that
// showed a book live whose top 10 differed from every recent state of the true book, plus
// books live at the end that differ from the truth after the drain.
//
// Timeline (S = --seconds): warm-up until every book is live on every replica, and its
// backlog drained (no message over 50 ms late for 250 ms); faults armed, latency counted;
// at S/3 one engine is killed (its shards' books come back under another engine's lease:
// takeover, timed per book from the kill to live again under a higher epoch on every
// replica); at 2S/3 the server is stopped and started again on the same port and store;
// at S the market pauses and the books are judged.
#include <absl/strings/str_cat.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "connectors/net/event_loop.h"
#include "engine/bus/nats_client.h"
#include "engine/bus/replica.h"
#include "engine/bus/wire.h"
#include "tools/cluster/child_process.h"
#include "tools/cluster/nats_server.h"
#include "tools/commands.h"
#include "tools/sim/simulator.h"
#include "tools/sim/venue_pieces.h"

namespace obr::tools {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct DemoOptions {
  std::string venue;  // a venue the simulator serves; empty: its first (sim::venue_pieces())
  int engines = 4;
  int symbols = 1000;
  double seconds = 60;
  double rate = 10;  // changes per second per book, on average
  int consumers = 2;
  int shards = 32;
  int lease_ttl_ms = 2000;
  int heartbeat_ms = 200;
  bool json = false;
  bool keep = false;
  std::uint64_t seed = 1;
};

void cluster_usage(std::FILE* out) {
  std::fputs(
      "usage: obr cluster-demo [--venue V] [--engines K] [--symbols N] [--seconds S] [--rate R] [--consumers C]\n"
      "                        [--shards S] [--lease-ttl-ms T] [--seed N] [--json] [--keep]\n"
      "\n"
      "Starts nats-server (from PATH; JetStream, loopback, a temporary store), the exchange\n"
      "simulator (Kraken, N synthetic books, faults), K `obr run` engines sharing the books by\n"
      "shard leases, and C replicas that check every live book against the simulator's truth.\n"
      "Kills one engine (SIGKILL) at S/3 and restarts the NATS server at 2S/3. Exit 0 only when\n"
      "no wrong book was shown and every book is live at the end (docs/bus.md).\n"
      "\n"
      "  --venue V          the simulator's venue (default its first, kraken)\n"
      "  --engines K        engine processes, at least 2: one is killed (default 4)\n"
      "  --symbols N        books (default 1000, at most 1024 × engines)\n"
      "  --seconds S        the judged run after warm-up (default 60)\n"
      "  --rate R           changes per second per book on average (default 10)\n"
      "  --consumers C      replicas (default 2)\n"
      "  --shards S         shards (default 32)\n"
      "  --lease-ttl-ms T   the leases' TTL (default 2000)\n"
      "  --json             the summary as one JSON object\n"
      "  --keep             keep the temporary directory (logs, configs, store)\n",
      out);
}

std::string self_exe() {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("obr") : p.string();
}

std::string engine_config(const DemoOptions& o, int i, const std::vector<std::string>& symbols,
                          const std::string& ws_url, const std::string& rest_url, const std::string& cert,
                          const std::string& nats_url) {
  std::string syms;
  for (const std::string& s : symbols) absl::StrAppend(&syms, syms.empty() ? "" : ",", "\"", s, "\"");
  std::string venue = absl::StrCat("\"symbols\": [", syms, "]");
  if (ws_url.starts_with("ws://") || ws_url.starts_with("wss://"))
    absl::StrAppend(&venue, ", \"endpoints\": [\"", ws_url, "\"]");
  if (!rest_url.empty()) absl::StrAppend(&venue, ", \"rest_base\": \"", rest_url, "\"");
  return absl::StrCat(
      "{\n  \"", o.venue, "\": {", venue, "},\n  \"tls\": {\"verify_peer\": true, \"ca_file\": \"", cert,
      "\"},\n  \"backoff\": {\"base_ms\": 100, \"cap_ms\": 1000, \"stable_ms\": 10000},\n  \"watchdog_ms\": 3000,\n",
      "  \"bus\": {\"nats\": [\"", nats_url, "\"], \"engine_id\": \"e", i, "\", \"shards\": ", o.shards,
      ", \"lease_ttl_ms\": ", o.lease_ttl_ms, ", \"heartbeat_ms\": ", o.heartbeat_ms,
      ", \"snapshot_every_ms\": 1000}\n}\n");
}

// Checks what the replicas show against the truth, on the simulator's loop thread. The
// books shown are queued and judged in batches: one post to the loop per batch, not per
// callback (a wake-up per callback, some 15 000 a second, loaded the two cores enough to
// show in the bus's latency).
class Judge : public engine::Listener {
 public:
  Judge(net::EventLoop& loop, sim::Simulator& sim) : loop_(loop), sim_(sim) {}
  void on_book(std::string_view venue, std::string_view symbol, const book::OrderBook& book, bool top_changed,
               std::int64_t) override {
    if (book.state() != book::BookState::kLive || !top_changed) return;
    live_callbacks.fetch_add(1, std::memory_order_relaxed);
    Shown shown{std::string(venue), std::string(symbol), {}, {}};
    for (std::size_t i = 0; i < std::min<std::size_t>(10, book.bids().size()); ++i)
      shown.bids.push_back(book.bids().at(i));
    for (std::size_t i = 0; i < std::min<std::size_t>(10, book.asks().size()); ++i)
      shown.asks.push_back(book.asks().at(i));
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(std::move(shown));
    if (!drain_posted_) {
      drain_posted_ = true;
      loop_.post([this] { drain(); });
    }
  }
  // drain: every book queued so far, judged (the simulator's loop thread).
  void drain() {
    std::vector<Shown> batch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch.swap(pending_);
      drain_posted_ = false;
    }
    for (const Shown& b : batch) {
      checked.fetch_add(1, std::memory_order_relaxed);
      if (!sim_.matches_recent_truth(b.venue, b.symbol, b.bids, b.asks) && wrong.fetch_add(1) < 5) {
        std::fprintf(stderr, "cluster-demo: wrong book shown live: %s:%s\n", b.venue.c_str(), b.symbol.c_str());
      }
    }
  }
  std::atomic<std::uint64_t> live_callbacks{0}, checked{0}, wrong{0};

 private:
  struct Shown {
    std::string venue, symbol;
    std::vector<book::Level> bids, asks;
  };
  net::EventLoop& loop_;
  sim::Simulator& sim_;
  std::mutex mu_;
  std::vector<Shown> pending_;
  bool drain_posted_ = false;
};

// run_on: f() on the loop's thread, waited for.
template <class F>
void run_on(net::EventLoop& loop, F&& f) {
  std::promise<void> done;
  loop.post([&] {
    f();
    done.set_value();
  });
  done.get_future().wait();
}

struct Summary {
  std::size_t books_total = 0;
  int engines = 0, consumers = 0;
  std::uint64_t consumer_live_callbacks = 0, wrong_books_served = 0;
  std::size_t takeovers = 0;
  double takeover_ms_max = 0;
  double bus_latency_us_p50 = 0, bus_latency_us_p99 = 0;
  // The judged run's latency by phase: before the kill, from the kill to the server's
  // restart, after it (the first replica's messages; the overall figures merge the three).
  std::array<engine::LatencyHistogram, 3> phases;
  std::uint64_t changes_published = 0;
  std::size_t books_live_at_end = 0;
  double warmup_s = 0, settle_s = 0;
  std::uint64_t faults_injected = 0;
  std::uint64_t resyncs = 0, epoch_changes = 0, nats_reconnects = 0;
  double server_outage_ms = 0;
  std::string failure;
};

// phases_json: {"calm": {...}, "after_kill": {...}, "after_restart": {...}}, each with the
// messages, p50 and p99 in µs, and how many took over 1 ms.
std::string phases_json(const std::array<engine::LatencyHistogram, 3>& phases) {
  static constexpr std::array<const char*, 3> kNames = {"calm", "after_kill", "after_restart"};
  static_assert(engine::LatencyHistogram::kBoundsNs[9] == 1'000'000);
  std::string out = "{";
  for (std::size_t i = 0; i < phases.size(); ++i) {
    const engine::LatencyHistogram& h = phases[i];
    const std::uint64_t over_1ms = h.count() - h.cumulative_le(9);  // kBoundsNs[9] is 1 ms
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s\"%s\":{\"messages\":%llu,\"p50_us\":%.1f,\"p99_us\":%.1f,\"over_1ms\":%llu}",
                  i == 0 ? "" : ",", kNames[i], static_cast<unsigned long long>(h.count()),
                  static_cast<double>(h.quantile(0.5)) / 1e3, static_cast<double>(h.quantile(0.99)) / 1e3,
                  static_cast<unsigned long long>(over_1ms));
    out += buf;
  }
  return out + "}";
}

}  // namespace

int run_cluster_demo(int argc, char** argv) {
  DemoOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto number = [&](double lo, double hi, double& out) -> bool {
      if (i + 1 >= argc || !parse_number(argv[i + 1], lo, hi, out)) {
        std::fprintf(stderr, "obr cluster-demo: %s needs a number in [%g, %g]%s%s\n", a.c_str(), lo, hi,
                     i + 1 < argc ? ", not " : "", i + 1 < argc ? argv[i + 1] : "");
        return false;
      }
      ++i;
      return true;
    };
    double v = 0;
    if (a == "--help" || a == "-h") {
      cluster_usage(stdout);
      return 0;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--venue") {
      if (i + 1 >= argc || sim::find_venue_piece(argv[i + 1]) == nullptr) {
        std::fprintf(stderr, "obr cluster-demo: --venue needs one of %s\n", sim::venue_piece_names().c_str());
        return 2;
      }
      o.venue = argv[++i];
    } else if (a == "--engines") {
      if (!number(2, 64, v)) return 2;  // one is killed: another must take its books
      o.engines = static_cast<int>(v);
    } else if (a == "--symbols") {
      if (!number(1, 65536, v)) return 2;
      o.symbols = static_cast<int>(v);
    } else if (a == "--seconds") {
      if (!number(3, 86400, v)) return 2;
      o.seconds = v;
    } else if (a == "--rate") {
      if (!number(0.1, 10000, v)) return 2;
      o.rate = v;
    } else if (a == "--consumers") {
      if (!number(1, 64, v)) return 2;
      o.consumers = static_cast<int>(v);
    } else if (a == "--shards") {
      if (!number(1, 4096, v)) return 2;
      o.shards = static_cast<int>(v);
    } else if (a == "--lease-ttl-ms") {
      if (!number(1000, 600000, v)) return 2;
      o.lease_ttl_ms = static_cast<int>(v);
    } else if (a == "--seed") {
      if (!number(0, 1e15, v)) return 2;
      o.seed = static_cast<std::uint64_t>(v);
    } else {
      std::fprintf(stderr, "obr cluster-demo: unknown option '%s'\n", a.c_str());
      cluster_usage(stderr);
      return 2;
    }
  }
  if (o.venue.empty()) o.venue = std::string(sim::venue_pieces().front().name);
  const sim::VenuePieceFactory& piece = *sim::find_venue_piece(o.venue);
  if (o.symbols > 1024 * o.engines) {
    std::fprintf(stderr, "obr cluster-demo: --symbols %d: at most 1024 books an engine (%d)\n", o.symbols,
                 1024 * o.engines);
    return 2;
  }
  const std::atomic<bool>& interrupted = install_interrupt_handlers();
  char tmpl[] = "/tmp/obr-cluster-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("obr cluster-demo: mkdtemp");
    return 3;
  }
  const std::string dir = tmpl;
  auto say = [&](const std::string& line) {
    if (!o.json) std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  Summary sum;
  sum.engines = o.engines;
  sum.consumers = o.consumers;
  sum.books_total = static_cast<std::size_t>(o.symbols);
  std::string error;

  // 1. The NATS server.
  std::filesystem::create_directories(dir + "/nats");
  NatsServerOptions no;
  no.store_dir = dir + "/nats";
  NatsServer server(no);
  if (!server.start(error)) {
    std::fprintf(stderr, "obr cluster-demo: %s\n", error.c_str());
    return 3;
  }
  say(absl::StrCat("nats-server on ", server.url(), " (store ", no.store_dir, ")"));

  // 2. The simulator: Kraken alone, N books, faults armed after the warm-up.
  net::EventLoop sim_loop;
  sim::SimConfig sc;
  sc.serve_only = {o.venue};
  sc.cert_file = dir + "/sim-cert.pem";
  sc.seed = o.seed;
  sim::detail::SplitMix64 rng(o.seed * 0x9E3779B97F4A7C15ull + 1);
  sc.symbols[o.venue] = sim::make_venue_symbols(static_cast<std::size_t>(o.symbols), piece, rng, 60);
  sc.changes_per_s = o.rate * o.symbols;
  sc.timed_faults_wait = true;
  for (const auto& [at, kind] : std::vector<std::pair<double, const char*>>{
           {0.10, "corrupt_checksum"}, {0.20, "drop"}, {0.45, "close"}, {0.55, "corrupt_checksum"}, {0.80, "drop"}}) {
    std::string e;  // a kind the venue does not have (corrupt_checksum without a checksum) is left out
    auto f =
        sim::parse_fault(absl::StrCat(kind, "@t=", static_cast<int>(at * o.seconds * 1000), "ms,venue=", o.venue), e);
    if (f) sc.faults.push_back(*f);
  }
  sim::Simulator sim(sim_loop, sc);
  if (!sim.start(error)) {
    std::fprintf(stderr, "obr cluster-demo: simulator: %s\n", error.c_str());
    return 3;
  }
  std::thread sim_thread([&] { sim_loop.run(); });
  const std::vector<std::string> symbols = sim.symbols(o.venue);
  say(absl::StrCat("simulator: ", o.venue, ", ", symbols.size(), " books, ", sc.changes_per_s, " changes/s, ",
                   sc.faults.size(), " faults"));

  // 3. The engines.
  const std::string exe = self_exe();
  std::vector<std::unique_ptr<ChildProcess>> engines;
  for (int i = 1; i <= o.engines; ++i) {
    const std::string cfg = absl::StrCat(dir, "/e", i, ".json");
    std::ofstream(cfg) << engine_config(o, i, symbols, sim.url(o.venue), sim.rest_url(o.venue), sim.cert_file(),
                                        server.url());
    engines.push_back(std::make_unique<ChildProcess>(std::vector<std::string>{exe, "run", "--config", cfg},
                                                     absl::StrCat(dir, "/e", i, ".log")));
    if (!engines.back()->start(error)) {
      std::fprintf(stderr, "obr cluster-demo: engine e%d: %s\n", i, error.c_str());
      return 3;
    }
  }
  say(absl::StrCat(o.engines, " engines started (obr run; logs in ", dir, ")"));

  // 4. The replicas.
  Judge judge(sim_loop, sim);
  std::vector<std::unique_ptr<replica::Replica>> replicas;
  for (int c = 0; c < o.consumers; ++c) {
    replica::ReplicaSettings rs;
    rs.nats.servers = {server.url()};
    rs.nats.name = absl::StrCat("obr cluster-demo replica ", c + 1);
    rs.all = true;
    rs.heartbeat_ns = std::int64_t{o.heartbeat_ms} * 1'000'000;
    replicas.push_back(std::make_unique<replica::Replica>(rs, &judge));
    if (absl::Status st = replicas.back()->start(); !st.ok()) {
      std::fprintf(stderr, "obr cluster-demo: replica: %s\n", std::string(st.message()).c_str());
      return 3;
    }
  }
  auto live_everywhere = [&](const std::string& s) {
    for (auto& r : replicas) {
      if (r->state(o.venue, s) != book::BookState::kLive) return false;
    }
    return true;
  };
  auto count_live = [&] {
    std::size_t n = 0;
    for (const std::string& s : symbols) n += live_everywhere(s) ? 1u : 0u;
    return n;
  };
  auto engine_died = [&]() -> std::string {
    for (std::size_t i = 0; i < engines.size(); ++i) {
      if (engines[i]->exited()) return absl::StrCat("engine e", i + 1, " exited: ", engines[i]->last_log_line());
    }
    return {};
  };

  // 5. Warm-up: every book live on every replica.
  const auto warm_start = Clock::now();
  std::size_t live = 0;
  while (!interrupted.load() && Clock::now() - warm_start < 120s) {
    live = count_live();
    if (live == symbols.size()) break;
    if (std::string died = engine_died(); !died.empty()) {
      sum.failure = died;
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  sum.warmup_s = std::chrono::duration<double>(Clock::now() - warm_start).count();
  if (live != symbols.size() && sum.failure.empty()) {
    sum.failure = absl::StrCat("warm-up: ", live, " of ", symbols.size(), " books live after 120 s");
  }
  say(absl::StrCat("warm-up: ", live, "/", symbols.size(), " books live on every replica in ", sum.warmup_s, " s"));
  // The warm-up's backlog drained: the books are live once their snapshots arrive, while
  // the changes behind them can still be some 100 ms late (1000 books subscribed at once).
  // The judged run starts when a quarter second passes with no message over 50 ms late
  // (at most 10 s), so its latency figures are the steady state's and the faults'.
  const auto settle_start = Clock::now();
  while (sum.failure.empty() && !interrupted.load() && Clock::now() - settle_start < 10s) {
    replicas[0]->reset_latency();
    std::this_thread::sleep_for(250ms);
    const engine::LatencyHistogram h = replicas[0]->latency();
    if (h.count() > 0 && h.max_ns() < 50'000'000) break;
  }
  sum.settle_s = std::chrono::duration<double>(Clock::now() - settle_start).count();
  if (sum.failure.empty()) run_on(sim_loop, [&] { sim.arm_timed_faults(); });

  // 6. The judged run. The latency figures count from here, not the warm-up's snapshots.
  for (auto& r : replicas) r->reset_latency();
  const auto t0 = Clock::now();
  // end_phase: the first replica's latency since the last call, kept as phase i.
  const auto end_phase = [&](std::size_t i) {
    sum.phases[i] = replicas[0]->latency();
    replicas[0]->reset_latency();
  };
  const auto at = [&](double frac) {
    return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(frac * o.seconds));
  };
  bool killed = false, restarted = false;
  // Takeover bookkeeping: the killed engine's books, their epoch before, when each came back.
  std::map<std::string, std::uint64_t> taken_epoch;
  std::map<std::string, double> back_ms;
  Clock::time_point kill_time;
  bus::NatsSettings ns;
  ns.servers = {server.url()};
  ns.retry_first_connect = false;
  while (sum.failure.empty() && !interrupted.load() && Clock::now() < at(1.0)) {
    if (!killed && Clock::now() >= at(1.0 / 3)) {
      killed = true;
      // Which shards e1 holds, from the leases bucket.
      std::set<std::uint32_t> shards;
      if (auto c = bus::NatsConnection::connect(ns); c.ok()) {
        bus::BucketSettings bs;
        bs.name = "obr_leases";
        bs.ttl_ns = std::int64_t{o.lease_ttl_ms} * 1'000'000;
        if (auto kv = (*c)->bucket(bs); kv.ok()) {
          for (int s = 0; s < o.shards; ++s) {
            auto e = (*kv)->get(absl::StrCat("shard.", s));
            if (e.ok() && e->has_value() && (*e)->value == "e1") shards.insert(static_cast<std::uint32_t>(s));
          }
        }
      }
      sum.takeovers = shards.size();
      for (const std::string& s : symbols) {
        if (shards.count(bus::shard_of(o.venue, s, static_cast<std::uint32_t>(o.shards))) != 0) {
          taken_epoch[s] = replicas[0]->epoch(o.venue, s);
        }
      }
      end_phase(0);
      kill_time = Clock::now();
      engines[0]->signal(SIGKILL);
      engines[0]->wait(5000);
      say(absl::StrCat("t=", static_cast<int>(o.seconds / 3), "s: engine e1 killed (SIGKILL), holding ", shards.size(),
                       " shards, ", taken_epoch.size(), " books"));
    }
    if (killed && back_ms.size() < taken_epoch.size()) {
      for (const auto& [s, epoch] : taken_epoch) {
        if (back_ms.count(s) != 0) continue;
        bool back = true;
        for (auto& r : replicas)
          back = back && r->epoch(o.venue, s) > epoch && r->state(o.venue, s) == book::BookState::kLive;
        if (back) back_ms[s] = std::chrono::duration<double, std::milli>(Clock::now() - kill_time).count();
      }
    }
    if (!restarted && Clock::now() >= at(2.0 / 3)) {
      restarted = true;
      end_phase(1);
      const auto down = Clock::now();
      server.stop();
      if (!server.start(error)) {
        sum.failure = absl::StrCat("nats-server restart: ", error);
        break;
      }
      sum.server_outage_ms = std::chrono::duration<double, std::milli>(Clock::now() - down).count();
      say(absl::StrCat("t=", static_cast<int>(2 * o.seconds / 3), "s: nats-server restarted (down ",
                       static_cast<int>(sum.server_outage_ms), " ms)"));
    }
    for (std::size_t i = 1; i < engines.size(); ++i) {
      if (engines[i]->running() && engines[i]->exited()) {
        sum.failure = absl::StrCat("engine e", i + 1, " exited: ", engines[i]->last_log_line());
      }
    }
    std::this_thread::sleep_for(10ms);
  }
  end_phase(restarted ? 2 : killed ? 1 : 0);
  for (const auto& [s, ms] : back_ms) sum.takeover_ms_max = std::max(sum.takeover_ms_max, ms);
  if (killed && back_ms.size() < taken_epoch.size()) {
    sum.takeover_ms_max = std::chrono::duration<double, std::milli>(Clock::now() - kill_time).count();
    if (sum.failure.empty()) {
      sum.failure = absl::StrCat(taken_epoch.size() - back_ms.size(), " of the killed engine's books not taken over");
    }
  }

  // 7. The end: the market paused, the books drained and judged against the truth.
  run_on(sim_loop, [&] { sim.pause_market(true); });
  std::size_t equal = 0;
  const auto drain_start = Clock::now();
  do {
    std::this_thread::sleep_for(200ms);
    equal = 0;
    for (const std::string& s : symbols) {
      bool ok = true;
      for (auto& r : replicas) {
        std::vector<book::Level> bids, asks;
        book::BookState st = book::BookState::kSubscribing;
        r->with_book(o.venue, s, [&](const book::OrderBook& b, book::BookState state) {
          st = state;
          for (std::size_t i = 0; i < std::min<std::size_t>(10, b.bids().size()); ++i) bids.push_back(b.bids().at(i));
          for (std::size_t i = 0; i < std::min<std::size_t>(10, b.asks().size()); ++i) asks.push_back(b.asks().at(i));
        });
        bool same = false;
        run_on(sim_loop, [&] {
          auto tb = sim.truth_bids(o.venue, s), ta = sim.truth_asks(o.venue, s);
          tb = tb.first(std::min<std::size_t>(10, tb.size()));
          ta = ta.first(std::min<std::size_t>(10, ta.size()));
          same = std::equal(bids.begin(), bids.end(), tb.begin(), tb.end()) &&
                 std::equal(asks.begin(), asks.end(), ta.begin(), ta.end());
        });
        ok = ok && st == book::BookState::kLive && same;
      }
      equal += ok ? 1 : 0;
    }
  } while (equal < symbols.size() && Clock::now() - drain_start < 5s);
  sum.books_live_at_end = equal;
  std::size_t live_unequal = 0;
  for (const std::string& s : symbols) live_unequal += live_everywhere(s) ? 1u : 0u;
  live_unequal = live_unequal > equal ? live_unequal - equal : 0;

  // 8. Figures, then everything stopped.
  engine::LatencyHistogram lat;
  for (auto& r : replicas) {
    const replica::ReplicaStats st = r->stats();
    sum.resyncs += st.resyncs;
    sum.epoch_changes += st.epoch_changes;
    sum.nats_reconnects += st.nats_reconnects;
  }
  sum.changes_published = replicas[0]->stats().changes;
  // The first replica's latency over the judged run (the replicas see the same messages).
  for (const auto& h : sum.phases) lat.merge(h);
  sum.bus_latency_us_p50 = static_cast<double>(lat.quantile(0.5)) / 1e3;
  sum.bus_latency_us_p99 = static_cast<double>(lat.quantile(0.99)) / 1e3;
  for (auto& r : replicas) r->stop();
  run_on(sim_loop, [&] { judge.drain(); });  // the books still queued, judged
  sum.consumer_live_callbacks = judge.live_callbacks.load();
  sum.wrong_books_served = judge.wrong.load() + live_unequal;
  run_on(sim_loop, [&] { sum.faults_injected = sim.fired().size(); });
  for (auto& e : engines) {
    if (e) e->terminate(5000);
  }
  sim_loop.stop();
  sim_thread.join();
  server.stop();

  const bool ok = sum.failure.empty() && sum.wrong_books_served == 0 && sum.books_live_at_end == sum.books_total &&
                  !interrupted.load();
  if (o.json) {
    std::printf(
        "{\"books_total\":%zu,\"engines\":%d,\"consumers\":%d,\"consumer_live_callbacks\":%llu,"
        "\"wrong_books_served\":%llu,\"takeovers\":%zu,\"takeover_ms_max\":%.0f,\"bus_latency_us_p50\":%.1f,"
        "\"bus_latency_us_p99\":%.1f,\"changes_published\":%llu,\"books_live_at_end\":%zu,\"warmup_s\":%.1f,"
        "\"settle_s\":%.2f,\"faults_injected\":%llu,\"resyncs\":%llu,\"epoch_changes\":%llu,\"nats_reconnects\":%llu,"
        "\"server_outage_ms\":%.0f,\"lease_ttl_ms\":%d,\"bus_latency_by_phase\":%s,\"ok\":%s%s%s%s}\n",
        sum.books_total, sum.engines, sum.consumers, static_cast<unsigned long long>(sum.consumer_live_callbacks),
        static_cast<unsigned long long>(sum.wrong_books_served), sum.takeovers, sum.takeover_ms_max,
        sum.bus_latency_us_p50, sum.bus_latency_us_p99, static_cast<unsigned long long>(sum.changes_published),
        sum.books_live_at_end, sum.warmup_s, sum.settle_s, static_cast<unsigned long long>(sum.faults_injected),
        static_cast<unsigned long long>(sum.resyncs), static_cast<unsigned long long>(sum.epoch_changes),
        static_cast<unsigned long long>(sum.nats_reconnects), sum.server_outage_ms, o.lease_ttl_ms,
        phases_json(sum.phases).c_str(), ok ? "true" : "false", sum.failure.empty() ? "" : ",\"failure\":\"",
        sum.failure.c_str(), sum.failure.empty() ? "" : "\"");
  } else {
    std::printf(
        "summary: %zu/%zu books live at the end on %d replicas, %llu wrong books served, %llu live callbacks,\n"
        "         %zu shards taken over (slowest book back in %.0f ms; lease TTL %d ms), bus latency p50 %.1f us "
        "p99 %.1f us,\n         %llu changes published, %llu faults injected, %llu resyncs, server down %.0f ms%s%s\n",
        sum.books_live_at_end, sum.books_total, sum.consumers, static_cast<unsigned long long>(sum.wrong_books_served),
        static_cast<unsigned long long>(sum.consumer_live_callbacks), sum.takeovers, sum.takeover_ms_max,
        o.lease_ttl_ms, sum.bus_latency_us_p50, sum.bus_latency_us_p99,
        static_cast<unsigned long long>(sum.changes_published), static_cast<unsigned long long>(sum.faults_injected),
        static_cast<unsigned long long>(sum.resyncs), sum.server_outage_ms,
        sum.failure.empty() ? "" : "\nfailed: ", sum.failure.c_str());
    std::printf("         bus latency by phase: %s\n", phases_json(sum.phases).c_str());
  }
  if (!o.keep && ok) std::filesystem::remove_all(dir);
  if (!ok && !o.keep) std::fprintf(stderr, "obr cluster-demo: logs kept in %s\n", dir.c_str());
  if (interrupted.load()) return kExitInterrupted;
  return ok ? 0 : 1;
}

}  // namespace obr::tools

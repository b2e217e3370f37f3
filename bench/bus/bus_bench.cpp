// bench/bus/bus_bench.cpp — the bus's publish path and latency (docs/bus.md "Figures").
//
// Against a nats-server this benchmark starts on loopback (from PATH):
//   BusPublishRaw       natsConnection_Publish of a 64 + 2 × 16-byte message: the client's
//                       own ceiling, the baseline of the same run (argument: the writes:
//                       0 flush thread, 1 asap, 2 the client's batching);
//   BusPublishChanges   the engine's path per change: a level of one of 1000 books
//                       changed, BusNode::on_book (view diff, encode, publish), on the
//                       engine's thread, as the engine calls it;
//   BusLatency          engine to replica on loopback: 10 changes every 1 ms (some 7 000 a
//                       second, with the snapshots every second of 1000 books) to a Replica
//                       in this process; the counters are the replica's latency quantiles
//                       (publish clock → receive clock), argument the writes as above;
//   BusLatencyRaw       its baseline: the same rhythm through the NATS client and server
//                       alone (no book, no replica), arguments the writes as above, the
//                       publishing and the subscribing connections.
// Run: build/release/bench/bus_bench (it skips with an error when nats-server is absent).
#include <absl/strings/str_cat.h>
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "book/order_book.h"
#include "connectors/net/event_loop.h"
#include "engine/bus/bus_node.h"
#include "engine/bus/replica.h"
#include "tools/cluster/nats_server.h"

namespace {

using namespace obr;

constexpr int kBooks = 1000;

// One nats-server for the whole run.
tools::NatsServer* server() {
  static std::unique_ptr<tools::NatsServer> s = [] {
    const std::string dir = absl::StrCat("/tmp/obr-bus-bench-", ::getpid());
    std::filesystem::create_directories(dir);
    tools::NatsServerOptions o;
    o.store_dir = dir;
    auto p = std::make_unique<tools::NatsServer>(o);
    std::string error;
    if (!p->start(error)) return std::unique_ptr<tools::NatsServer>();
    return p;
  }();
  return s.get();
}

// An engine holding every shard of 1000 books, its books changed by the benchmark on its thread.
struct Publisher {
  std::unique_ptr<bus::BusNode> node;
  std::unique_ptr<engine::Engine> engine;
  std::vector<std::unique_ptr<book::OrderBook>> books;
  std::vector<std::string> symbols;
  std::uint64_t step = 0;

  bool start(std::string& error, bus::NatsSettings::Writes writes) {
    bus::BusNodeSettings s;
    s.nats.servers = {server()->url()};
    s.nats.writes = writes;
    s.engine_id = "bench";
    s.shards = 8;
    s.lease_settle_ns = 1;
    s.snapshot_every_changes = 1000;
    s.snapshot_every_ns = 1'000'000'000;
    for (int i = 0; i < kBooks; ++i) symbols.push_back(absl::StrCat("B", i, "/USD"));
    // A venue the engine knows, at an endpoint that refuses: the books are the benchmark's.
    s.universe = {{"kraken", symbols}};
    auto n = bus::BusNode::create(s);
    if (!n.ok()) {
      error = std::string(n.status().message());
      return false;
    }
    node = std::move(*n);
    engine::EngineConfig ec;
    ec.venue("kraken").endpoints = {"ws://127.0.0.1:1/v2"};
    ec.backoff.base_ns = 1'000'000'000;
    ec.backoff.cap_ns = 10'000'000'000;
    engine = std::make_unique<engine::Engine>(ec, node.get());
    engine->start();
    if (absl::Status st = node->attach(*engine); !st.ok()) {
      error = std::string(st.message());
      return false;
    }
    for (int i = 0; i < kBooks; ++i) {
      auto b = std::make_unique<book::OrderBook>(book::BookConfig{.price_scale = 1, .qty_scale = 8});
      for (int l = 0; l < 10; ++l) {
        b->apply(book::Side::kBid, 500000 - l, 100000 + l);
        b->apply(book::Side::kAsk, 500001 + l, 100000 + l);
      }
      b->set_state(book::BookState::kLive);
      books.push_back(std::move(b));
    }
    // Every shard held (one engine): wait for the leases.
    for (int i = 0; i < 200 && node_shards() < 8; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (node_shards() < 8) {
      error = "the leases were not taken";
      return false;
    }
    return true;
  }
  std::size_t node_shards() {
    std::promise<std::size_t> p;
    engine->loop().post([&] { p.set_value(node->shards_held().size()); });
    return p.get_future().get();
  }
  // n changes, on the engine's thread: one level of the next book, then its callback.
  void changes(std::size_t n) {
    std::promise<void> done;
    engine->loop().post([&] {
      for (std::size_t i = 0; i < n; ++i, ++step) {
        const std::size_t k = step % kBooks;
        book::OrderBook& b = *books[k];
        const auto level = static_cast<std::int64_t>((step / kBooks) % 10);
        b.apply(book::Side::kBid, 500000 - level, 100000 + static_cast<std::int64_t>(step % 977));
        node->on_book("kraken", symbols[k], b, level == 0, 0);
      }
      done.set_value();
    });
    done.get_future().wait();
  }
  ~Publisher() {
    if (engine) {
      std::promise<void> done;
      engine->loop().post([&] {
        node->stop();
        done.set_value();
      });
      done.get_future().wait();
      engine->stop();
    }
  }
};

// Argument: how writes reach the socket (NatsSettings::Writes): 0 the connection's flush
// thread (the default), 1 a write per publish, 2 the client's 1 ms batching.
void BusPublishRaw(benchmark::State& state) {
  if (server() == nullptr) return state.SkipWithError("nats-server could not be started (is it on PATH?)");
  bus::NatsSettings ns;
  ns.servers = {server()->url()};
  ns.writes = static_cast<bus::NatsSettings::Writes>(state.range(0));
  auto c = bus::NatsConnection::connect(ns);
  if (!c.ok()) return state.SkipWithError("no connection");
  const std::string msg(64 + 2 * 16, 'x');
  const std::string subject = "obr.d.kraken.B1/USD";
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) benchmark::DoNotOptimize((*c)->publish(subject, msg));
  }
  (void)(*c)->flush(5'000'000'000);
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BusPublishRaw)->Arg(0)->Arg(1)->Arg(2)->UseRealTime();

// Argument: NatsSettings::Writes, as BusPublishRaw.
void BusPublishChanges(benchmark::State& state) {
  if (server() == nullptr) return state.SkipWithError("nats-server could not be started (is it on PATH?)");
  Publisher p;
  std::string error;
  if (!p.start(error, static_cast<bus::NatsSettings::Writes>(state.range(0))))
    return state.SkipWithError(error.c_str());
  p.changes(10'000);  // warm: views, scratch buffers
  for (auto _ : state) p.changes(1000);
  state.SetItemsProcessed(state.iterations() * 1000);
  const bus::BusStats s = [&] {
    std::promise<bus::BusStats> pr;
    p.engine->loop().post([&] { pr.set_value(p.node->stats()); });
    return pr.get_future().get();
  }();
  state.counters["publish_failures"] = static_cast<double>(s.publish_failures);
  state.counters["snapshots_per_change"] = static_cast<double>(s.snapshots) / static_cast<double>(s.changes);
}
BENCHMARK(BusPublishChanges)->Arg(0)->Arg(1)->Arg(2)->UseRealTime();

void BusLatency(benchmark::State& state) {
  if (server() == nullptr) return state.SkipWithError("nats-server could not be started (is it on PATH?)");
  Publisher p;
  std::string error;
  if (!p.start(error, static_cast<bus::NatsSettings::Writes>(state.range(0))))
    return state.SkipWithError(error.c_str());
  replica::ReplicaSettings rs;
  rs.nats.servers = {server()->url()};
  rs.all = true;
  replica::Replica r(rs);
  if (!r.start().ok()) return state.SkipWithError("replica did not start");
  p.changes(kBooks * 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // every book synced
  r.reset_latency();
  // 10 changes each 1 ms: 10 000 changes/s, a busy but not saturated bus.
  for (auto _ : state) {
    p.changes(10);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const engine::LatencyHistogram after = r.latency();
  state.counters["p50_us"] = static_cast<double>(after.quantile(0.5)) / 1e3;
  state.counters["p99_us"] = static_cast<double>(after.quantile(0.99)) / 1e3;
  state.counters["samples"] = static_cast<double>(after.count());
  state.counters["books_live"] = static_cast<double>(r.stats().books_live);
  state.SetItemsProcessed(state.iterations() * 10);
}
BENCHMARK(BusLatency)->Arg(0)->Arg(1)->Arg(2)->UseRealTime()->MinTime(3.0);

// The baseline of BusLatency, in the same run: the NATS client and server alone. The same
// rhythm (10 messages each 1 ms, 96 bytes, over 1000 subjects) from P connections in turn
// to S subscribing connections (shared delivery, as the replica's), the publish clock in
// the first 8 bytes; no book, no view, no replica; the counters are the first subscriber's.
// Arguments: NatsSettings::Writes, P, S. (0, 4, 2) is the cluster demo's shape: 4 engines'
// connections, each with its flush thread, and 2 replicas.
void BusLatencyRaw(benchmark::State& state) {
  if (server() == nullptr) return state.SkipWithError("nats-server could not be started (is it on PATH?)");
  bus::NatsSettings ps;
  ps.servers = {server()->url()};
  ps.writes = static_cast<bus::NatsSettings::Writes>(state.range(0));
  bus::NatsSettings ss = ps;
  ss.shared_delivery = true;
  std::vector<std::unique_ptr<bus::NatsConnection>> pubs, subs;
  for (std::int64_t i = 0; i < state.range(1); ++i) {
    auto c = bus::NatsConnection::connect(ps);
    if (!c.ok()) return state.SkipWithError("no connection");
    pubs.push_back(std::move(*c));
  }
  struct Sink {
    std::mutex mu;
    engine::LatencyHistogram h;
  };
  std::vector<std::unique_ptr<Sink>> sinks;
  std::vector<std::unique_ptr<bus::NatsSubscription>> handles;
  for (std::int64_t i = 0; i < state.range(2); ++i) {
    auto c = bus::NatsConnection::connect(ss);
    if (!c.ok()) return state.SkipWithError("no connection");
    sinks.push_back(std::make_unique<Sink>());
    Sink* sink = sinks.back().get();
    auto sub = (*c)->subscribe("raw.>", [sink](const bus::Delivery& d) {
      const std::int64_t now =
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      std::int64_t sent = 0;
      if (d.data.size() >= sizeof sent) std::memcpy(&sent, d.data.data(), sizeof sent);
      std::lock_guard<std::mutex> lock(sink->mu);
      sink->h.record(now - sent);
    });
    if (!sub.ok() || !(*c)->flush(5'000'000'000).ok()) return state.SkipWithError("no subscription");
    handles.push_back(std::move(*sub));
    subs.push_back(std::move(*c));
  }
  std::vector<std::string> subjects;
  for (int i = 0; i < kBooks; ++i) subjects.push_back(absl::StrCat("raw.kraken.B", i, "/USD"));
  std::string msg(64 + 2 * 16, 'x');
  std::uint64_t step = 0;
  for (auto _ : state) {
    for (int i = 0; i < 10; ++i, ++step) {
      const std::int64_t now =
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      std::memcpy(msg.data(), &now, sizeof now);
      benchmark::DoNotOptimize(pubs[step % pubs.size()]->publish(subjects[step % kBooks], msg));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  handles.clear();  // drained: the handlers have returned
  const engine::LatencyHistogram& h = sinks.front()->h;
  state.counters["p50_us"] = static_cast<double>(h.quantile(0.5)) / 1e3;
  state.counters["p99_us"] = static_cast<double>(h.quantile(0.99)) / 1e3;
  state.counters["samples"] = static_cast<double>(h.count());
  state.SetItemsProcessed(state.iterations() * 10);
}
BENCHMARK(BusLatencyRaw)
    ->Args({0, 1, 1})
    ->Args({1, 1, 1})
    ->Args({2, 1, 1})
    ->Args({0, 4, 2})
    ->UseRealTime()
    ->MinTime(3.0);

}  // namespace

BENCHMARK_MAIN();

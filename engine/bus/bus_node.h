// engine/bus/bus_node.h — an engine's side of the bus (docs/bus.md): it holds shard
// leases, subscribes the engine to the books of the shards it holds, and publishes those
// books: every change and state change on core NATS with the book's own sequence and the
// lease's epoch, a snapshot into the books bucket at every state change and every N
// changes or T seconds, a heartbeat per shard, and a snapshot to whoever asks.
//
//   obr::bus::BusNodeSettings s;                       // servers, engine id, shards, universe …
//   auto node = obr::bus::BusNode::create(s);          // StatusOr: connects, opens the buckets
//   obr::engine::Engine engine(config, node->get());   // the node is (part of) the listener
//   engine.start();
//   (*node)->attach(engine);                           // leases, heartbeats, snapshot answers
//   ...
//   (*node)->stop();                                   // books shown stale, leases released
//
// What is published for a book is its view: its top view_depth levels a side (at most
// kMaxViewLevels, so a message never reaches the server's payload limit), and a change is
// the difference between the view before and after one engine callback, computed here,
// venue-agnostic. A consumer that applies the changes in sequence holds exactly the view.
//
// Thread-safety: create() on any thread; attach() once, before the engine has any book of
// the universe (obr run: after building it, before it connects) — it sets what the
// callbacks read; the
// Listener callbacks and stats() on the engine's thread; stop() on the engine's thread
// while it runs (so the stale states go out in order), or after it stopped. The node must
// outlive the engine's last callback, and be stopped (or destroyed) before the engine is
// destroyed: its heartbeat timer lives on the engine's loop.
#pragma once

#include <absl/status/statusor.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/bus/leases.h"
#include "engine/bus/nats_client.h"
#include "engine/bus/wire.h"
#include "engine/engine.h"

namespace obr::bus {

struct BusNodeSettings {
  NatsSettings nats;
  std::string engine_id = "e1";
  std::uint32_t shards = 16;
  std::int64_t lease_ttl_ns = 3'000'000'000;
  std::int64_t lease_settle_ns = 0;  // LeaseSettings::settle_ns
  std::uint64_t snapshot_every_changes = 1000;
  std::int64_t snapshot_every_ns = 1'000'000'000;
  std::int64_t heartbeat_ns = 500'000'000;
  std::string books_bucket = "obr_books";
  std::string leases_bucket = "obr_leases";
  std::string subject_prefix = "obr";
  int replicas = 1;
  std::size_t view_depth = 0;  // 0: kMaxViewLevels
  // The books this engine may own, per venue (the config's symbols); it subscribes a book
  // when it takes the book's shard.
  std::vector<std::pair<std::string, std::vector<std::string>>> universe;
};

struct BusStats {
  std::uint64_t messages = 0;  // changes, states and views published
  std::uint64_t changes = 0;
  std::uint64_t states = 0;
  std::uint64_t views = 0;
  std::uint64_t bytes = 0;
  std::uint64_t publish_failures = 0;  // refused by the client (a sequence gap for consumers)
  std::uint64_t snapshots = 0;         // written to the books bucket
  std::uint64_t heartbeats = 0;
  std::uint64_t snapshot_requests = 0;  // answered
  std::uint64_t not_owned = 0;          // callbacks for books of shards not held (not published)
  std::uint64_t nats_disconnects = 0;
  std::uint64_t nats_reconnects = 0;
  std::uint64_t subscribe_failures = 0;  // a shard's books the engine refused to subscribe
  LeaseStats leases;
};

class BusNode : public engine::Listener {
 public:
  // create: connects (retrying in the background when no server answers yet: then the
  // buckets are opened at attach) and opens or creates both buckets; errors name the server
  // or bucket.
  static absl::StatusOr<std::unique_ptr<BusNode>> create(const BusNodeSettings& settings);
  // attach starts the leases, the heartbeat timer and the snapshot answers for `engine`.
  absl::Status attach(engine::Engine& engine);
  ~BusNode() override;
  BusNode(const BusNode&) = delete;
  BusNode& operator=(const BusNode&) = delete;

  void on_book(std::string_view venue, std::string_view symbol, const book::OrderBook& book, bool top_changed,
               std::int64_t recv_ns) override;
  void on_book_state(std::string_view venue, std::string_view symbol, book::BookState from, book::BookState to,
                     connectors::StateReason reason) override;

  // stop: every published book is sent as stale, the leases are released (another engine
  // takes the shards at once) and the connection flushed and closed. Idempotent.
  void stop();
  BusStats stats() const;
  // connected: whether the NATS connection is up (any thread). create() returns before the
  // first connect when no server answers yet (NatsSettings::retry_first_connect); attach()
  // needs the server, so obr run waits for this first.
  bool connected() const;
  // metrics: stats() as Prometheus text lines, obr_bus_* (docs/operations.md "Metrics"),
  // for Engine::add_metrics. Engine thread (where the engine serves /metrics).
  std::string metrics() const;
  // shards_held: the shards whose books this node publishes now.
  std::vector<std::uint32_t> shards_held() const;
  // published: the book's epoch and last sequence (0, 0 when not published). Engine thread.
  std::pair<std::uint64_t, std::uint64_t> published(std::string_view venue, std::string_view symbol) const;

  struct Impl;

 private:
  explicit BusNode(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace obr::bus

// engine/bus/replica.h — obr::replica::Replica: books kept from the bus, proven by
// sequence (docs/bus.md "The replica"). For a strategy on another host: the same book
// view and listener shape as the engine's.
//
//   obr::replica::ReplicaSettings s;
//   s.nats.servers = {"nats://10.0.0.5:4222"};
//   s.books = {{"kraken", "BTC/USD"}};                 // or s.all = true
//   MyListener listener;                                // obr::engine::Listener
//   obr::replica::Replica r(s, &listener);
//   if (absl::Status st = r.start(); !st.ok()) ...
//   ... r.top("kraken", "BTC/USD", tob) ...             // any thread
//   r.stop();
//
// Per book it buffers the changes, asks the owning engine for a snapshot (request/reply;
// the books bucket when no engine answers), bridges by sequence, and resyncs on a gap, a
// dropped message, a higher epoch, or a heartbeat naming a sequence it never received;
// a lower epoch is ignored. A book is shown live (on_book_state to kLive) only while its
// source says live, its sequence is unbroken and its source was heard from within the
// silence limit.
//
// Thread-safety: start() and stop() from one thread. The listener's callbacks run one at a
// time, on the client's delivery thread or the replica's housekeeping thread, with the
// replica's lock held: a callback must not call back into the replica. top() and stats()
// from any thread.
#pragma once

#include <absl/status/status.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/bus/nats_client.h"
#include "engine/bus/replica_book.h"
#include "engine/engine.h"
#include "engine/latency_histogram.h"
#include "engine/top_of_book.h"

namespace obr::replica {

struct ReplicaSettings {
  bus::NatsSettings nats;
  std::string subject_prefix = "obr";
  std::string books_bucket = "obr_books";
  std::vector<std::pair<std::string, std::string>> books;  // venue, symbol
  bool all = false;                                        // every book on the bus instead
  std::int64_t heartbeat_ns = 500'000'000;                 // the engines' heartbeat interval
  std::int64_t silence_ns = 0;                             // not heard from this long: not live (0: 3 heartbeats)
  std::int64_t snapshot_timeout_ns = 500'000'000;          // a snapshot request unanswered: asked again
  std::int64_t check_interval_ns = 50'000'000;             // the housekeeping thread's period
  // on_applied: after every message, view or snapshot applied to a book, with the lock
  // held (tests and `obr cluster-demo` compare the book at its sequence with the source's).
  std::function<void(const bus::ReplicaBook&)> on_applied;
};

struct ReplicaStats {
  std::uint64_t messages = 0;   // bus messages received (changes, states, views)
  std::uint64_t changes = 0;    // of which changes
  std::uint64_t malformed = 0;  // messages that did not decode (counted, reported on stderr once each kind)
  std::uint64_t applied = 0;
  std::uint64_t resyncs = 0;  // syncs regained
  std::uint64_t gaps = 0;     // syncs lost to a gap or a heartbeat ahead
  std::uint64_t epoch_changes = 0;
  std::uint64_t stale_epoch = 0;  // messages of a former owner ignored
  std::uint64_t snapshot_requests = 0;
  std::uint64_t bucket_reads = 0;  // snapshots read from the books bucket
  std::uint64_t heartbeats = 0;
  std::uint64_t live_callbacks = 0;     // on_book calls while the book was shown live
  std::uint64_t dropped_by_client = 0;  // the NATS client's drops (slow consumer)
  std::uint64_t nats_reconnects = 0;
  std::size_t books = 0;
  std::size_t books_live = 0;
};

class Replica {
 public:
  Replica(ReplicaSettings settings, engine::Listener* listener = nullptr);
  ~Replica();
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  absl::Status start();
  void stop();

  // top: the book's top of book as shown (false for a book not known).
  bool top(std::string_view venue, std::string_view symbol, engine::TopOfBook& out) const;
  // epoch: the epoch the book is in sync with (0 for a book not known or never synced).
  std::uint64_t epoch(std::string_view venue, std::string_view symbol) const;
  // state: the book's shown state (kSubscribing for a book not known).
  book::BookState state(std::string_view venue, std::string_view symbol) const;
  // with_book runs f(book, shown_state) under the replica's lock; false for a book not known.
  template <class F>
  bool with_book(std::string_view venue, std::string_view symbol, F&& f) const;
  ReplicaStats stats() const;
  // for_each_name: f(venue, symbol) for every book known (named, or seen with `all`), in
  // the order they became known.
  void for_each_name(const std::function<void(const std::string&, const std::string&)>& f) const;
  // latency: bus latency, publish (engine clock) to receive (this process's clock), per message.
  engine::LatencyHistogram latency() const;
  void reset_latency();

  struct Impl;

 private:
  bool visit(std::string_view venue, std::string_view symbol,
             const std::function<void(const book::OrderBook&, book::BookState)>& f) const;
  std::unique_ptr<Impl> impl_;
};

template <class F>
bool Replica::with_book(std::string_view venue, std::string_view symbol, F&& f) const {
  return visit(venue, symbol, [&f](const book::OrderBook& b, book::BookState s) { f(b, s); });
}

}  // namespace obr::replica

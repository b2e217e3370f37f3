// engine/bus/bus_node.cpp — see bus_node.h and docs/bus.md "The publisher".
#include "engine/bus/bus_node.h"

#include <absl/container/flat_hash_map.h>
#include <absl/strings/str_cat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <mutex>

#include "connectors/net/event_loop.h"
#include "engine/observability.h"

namespace obr::bus {
namespace {

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct PubBook {
  std::string venue, symbol;
  std::uint32_t shard = 0;
  std::string subject;           // PREFIX.d.VENUE.SYMBOL
  std::string kv_subject;        // $KV.BUCKET.VENUE.SYMBOL
  std::uint64_t epoch = 0;       // the epoch its messages go under; 0: not published
  std::uint64_t last_epoch = 0;  // the epoch its sequence belongs to
  std::uint64_t seq = 0;
  std::vector<book::Level> bids, asks;  // the published view, best first
  std::int8_t price_scale = 0, qty_scale = 0;
  book::BookState state = book::BookState::kSubscribing;
  std::uint64_t changes_since_snapshot = 0;
  std::int64_t last_snapshot_ns = 0;
  std::int64_t last_recv_ns = 0;
};

// view_of: the top `depth` levels of a side, best first.
template <class Side>
void view_of(const Side& side, std::size_t depth, std::vector<book::Level>& out) {
  const std::size_t n = std::min(side.size(), depth);
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = side.at(i);
}

// diff: the changes that turn `before` into `after` (both best first; `bids` orders them
// high to low): a level gone gets quantity 0.
void diff(const std::vector<book::Level>& before, const std::vector<book::Level>& after, bool bids,
          std::vector<book::Level>& out) {
  out.clear();
  std::size_t i = 0, j = 0;
  auto better = [bids](std::int64_t a, std::int64_t b) { return bids ? a > b : a < b; };
  while (i < before.size() || j < after.size()) {
    if (j == after.size() || (i < before.size() && better(before[i].price, after[j].price))) {
      out.push_back({before[i].price, 0});
      ++i;
    } else if (i == before.size() || better(after[j].price, before[i].price)) {
      out.push_back(after[j]);
      ++j;
    } else {
      if (before[i].qty != after[j].qty) out.push_back(after[j]);
      ++i, ++j;
    }
  }
}

}  // namespace

struct BusNode::Impl {
  BusNodeSettings settings;
  Subjects subjects;
  std::unique_ptr<NatsConnection> nats;
  std::unique_ptr<KvBucket> books_kv, leases_kv;
  std::unique_ptr<LeaseKeeper> leases;
  std::unique_ptr<NatsSubscription> requests;
  engine::Engine* engine = nullptr;
  std::unique_ptr<net::Timer> timer;
  std::shared_ptr<std::atomic<bool>> alive = std::make_shared<std::atomic<bool>>(true);
  bool stopped = false;
  std::atomic<std::uint64_t> subscribe_failures{0};
  std::atomic<bool> reopen_books{false};

  std::vector<PubBook> books;
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, std::size_t>> index;  // venue → symbol → book
  absl::flat_hash_map<std::string, std::size_t> by_request_subject;
  std::vector<std::vector<std::size_t>> by_shard;
  std::size_t depth = kMaxViewLevels;

  // Scratch, reused: no allocation per message once grown.
  std::vector<book::Level> new_bids, new_asks, bid_changes, ask_changes;
  std::string out;
  Heartbeat hb;
  BusStats stats;

  PubBook* find(std::string_view venue, std::string_view symbol) const {
    auto v = index.find(absl::string_view(venue.data(), venue.size()));
    if (v == index.end()) return nullptr;
    auto s = v->second.find(absl::string_view(symbol.data(), symbol.size()));
    return s == v->second.end() ? nullptr : const_cast<PubBook*>(&books[s->second]);
  }

  void send(PubBook& b, const MessageHeader& h, std::span<const book::Level> bids, std::span<const book::Level> asks,
            const std::string& subject) {
    out.clear();
    encode(h, bids, asks, out);
    if (!nats->publish(subject, out)) ++stats.publish_failures;
    stats.bytes += out.size();
    (void)b;
  }

  MessageHeader header(PubBook& b, MessageType type, std::uint8_t reason = 0) {
    MessageHeader h;
    h.type = type;
    h.state = b.state;
    h.reason = reason;
    h.price_scale = b.price_scale;
    h.qty_scale = b.qty_scale;
    h.epoch = b.epoch;
    h.seq = b.seq;
    h.recv_ns = b.last_recv_ns;
    h.publish_ns = wall_ns();
    return h;
  }

  // next: the next message of `b` (its sequence advances even when the client refuses the
  // publish: a consumer must see the gap, never a change applied to the wrong base).
  void publish(PubBook& b, MessageType type, std::uint8_t reason = 0) {
    ++b.seq;
    const MessageHeader h = header(b, type, reason);
    if (type == MessageType::kChange) {
      send(b, h, bid_changes, ask_changes, b.subject);
      ++stats.changes;
      ++b.changes_since_snapshot;
    } else if (type == MessageType::kView) {
      send(b, h, b.bids, b.asks, b.subject);
      ++stats.views;
    } else {
      send(b, h, {}, {}, b.subject);
      ++stats.states;
    }
    ++stats.messages;
  }

  void snapshot_to_bucket(PubBook& b, std::int64_t now) {
    const MessageHeader h = header(b, MessageType::kSnapshot);
    send(b, h, b.bids, b.asks, b.kv_subject);
    b.changes_since_snapshot = 0;
    b.last_snapshot_ns = now;
    ++stats.snapshots;
  }

  // owned: whether `b` may be published now; a new epoch starts it over with a view.
  bool owned(PubBook& b) {
    const std::uint64_t e = leases ? leases->epoch(b.shard) : 0;
    if (e == 0) {
      b.epoch = 0;
      return false;
    }
    if (b.epoch != e) {
      // A new epoch starts its sequence at 1; the same epoch resumed goes on from its last
      // sequence (a replica in sync must never see a sequence again).
      if (e != b.last_epoch) b.seq = 0;
      b.epoch = b.last_epoch = e;
      publish(b, MessageType::kView);
      snapshot_to_bucket(b, wall_ns());
    }
    return true;
  }

  // sync_view: the view from `book`; a change message when it differs (a view when the
  // scales changed). Returns whether anything was published.
  bool sync_view(PubBook& b, const book::OrderBook& book) {
    view_of(book.bids(), depth, new_bids);
    view_of(book.asks(), depth, new_asks);
    const auto ps = static_cast<std::int8_t>(book.price_scale());
    const auto qs = static_cast<std::int8_t>(book.qty_scale());
    if (ps != b.price_scale || qs != b.qty_scale) {
      b.price_scale = ps, b.qty_scale = qs;
      b.bids.swap(new_bids), b.asks.swap(new_asks);
      if (b.epoch != 0) publish(b, MessageType::kView);
      return true;
    }
    diff(b.bids, new_bids, true, bid_changes);
    diff(b.asks, new_asks, false, ask_changes);
    if (bid_changes.empty() && ask_changes.empty()) return false;
    b.bids.swap(new_bids), b.asks.swap(new_asks);
    // A change of more levels a side than a view may hold goes as the view (docs/bus.md "Size").
    const bool too_many = bid_changes.size() > kMaxViewLevels || ask_changes.size() > kMaxViewLevels;
    if (b.epoch != 0) publish(b, too_many ? MessageType::kView : MessageType::kChange);
    return true;
  }

  void maybe_snapshot(PubBook& b, std::int64_t now) {
    if (b.changes_since_snapshot >= settings.snapshot_every_changes ||
        now - b.last_snapshot_ns >= settings.snapshot_every_ns) {
      snapshot_to_bucket(b, now);
    }
  }

  // Engine thread: what the timer does every heartbeat interval.
  void tick() {
    if (stopped) return;
    const std::int64_t now = wall_ns();
    for (std::uint32_t shard = 0; shard < by_shard.size(); ++shard) {
      const std::uint64_t e = leases->epoch(shard);
      if (e == 0) {
        for (std::size_t i : by_shard[shard]) books[i].epoch = 0;
        continue;
      }
      hb.shard = shard;
      hb.epoch = e;
      hb.engine = settings.engine_id;
      hb.books.resize(by_shard[shard].size());
      std::size_t n = 0;
      for (std::size_t i : by_shard[shard]) {
        PubBook& b = books[i];
        if (!owned(b)) continue;
        maybe_snapshot(b, now);
        HeartbeatBook& hbb = hb.books[n++];
        hbb.venue = b.venue, hbb.symbol = b.symbol, hbb.seq = b.seq;
      }
      hb.books.resize(n);
      hb.publish_ns = now;
      out.clear();
      encode_heartbeat(hb, out);
      if (!nats->publish(subjects.heartbeat(shard), out)) ++stats.publish_failures;
      ++stats.heartbeats;
    }
    timer->start_after(settings.heartbeat_ns, [this] { tick(); });
  }

  // Engine thread: a shard was taken; start its books from what the engine holds now.
  void start_shard(std::uint32_t shard) {
    if (stopped) return;
    for (std::size_t i : by_shard[shard]) {
      PubBook& b = books[i];
      if (b.epoch == leases->epoch(shard)) continue;
      engine->for_each_book([&](std::string_view venue, std::string_view symbol, const book::OrderBook& book) {
        if (venue == b.venue && symbol == b.symbol) {
          b.state = book.state();
          const std::uint64_t keep = b.epoch;
          b.epoch = 0;  // the view is brought up to date without publishing …
          sync_view(b, book);
          b.epoch = keep;
        }
      });
      owned(b);  // … then published whole, as the epoch's first message
    }
  }

  void answer(std::size_t i, const std::string& reply) {
    if (stopped) return;
    PubBook& b = books[i];
    if (!owned(b)) return;  // not ours: the owner answers
    const MessageHeader h = header(b, MessageType::kSnapshot);
    out.clear();
    encode(h, b.bids, b.asks, out);
    if (!nats->publish(reply, out)) ++stats.publish_failures;
    ++stats.snapshot_requests;
  }
};

BusNode::BusNode(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BusNode::~BusNode() {
  impl_->alive->store(false);
  if (impl_->leases) impl_->leases->stop(false);
  impl_->requests.reset();
}

absl::StatusOr<std::unique_ptr<BusNode>> BusNode::create(const BusNodeSettings& settings) {
  auto impl = std::make_unique<Impl>();
  impl->settings = settings;
  impl->subjects.prefix = settings.subject_prefix;
  impl->depth = settings.view_depth == 0 ? kMaxViewLevels : std::min(settings.view_depth, kMaxViewLevels);
  if (settings.shards == 0) return absl::InvalidArgumentError("bus: shards must be at least 1");
  impl->by_shard.resize(settings.shards);
  for (const auto& [venue, symbols] : settings.universe) {
    for (const std::string& symbol : symbols) {
      if (impl->find(venue, symbol) != nullptr) continue;
      PubBook b;
      b.venue = venue, b.symbol = symbol;
      b.shard = shard_of(venue, symbol, settings.shards);
      b.subject = impl->subjects.changes(venue, symbol);
      b.kv_subject = absl::StrCat("$KV.", settings.books_bucket, ".", Subjects::book_key(venue, symbol));
      const std::size_t i = impl->books.size();
      impl->index[venue][symbol] = i;
      impl->by_request_subject[impl->subjects.snapshot_request(venue, symbol)] = i;
      impl->by_shard[b.shard].push_back(i);
      impl->books.push_back(std::move(b));
    }
  }
  NatsSettings ns = settings.nats;
  if (ns.name.empty()) ns.name = absl::StrCat("obr engine ", settings.engine_id);
  // A key-value call waits at most a quarter of the lease TTL, so that one stuck call (a
  // cluster electing a new leader) does not hold back the other leases' renewals for long.
  ns.request_timeout_ns = std::min(ns.request_timeout_ns, settings.lease_ttl_ns / 4);
  absl::StatusOr<std::unique_ptr<NatsConnection>> c = NatsConnection::connect(ns);
  if (!c.ok()) return c.status();
  impl->nats = std::move(*c);
  return std::unique_ptr<BusNode>(new BusNode(std::move(impl)));
}

absl::Status BusNode::attach(engine::Engine& engine) {
  Impl& m = *impl_;
  m.engine = &engine;
  // Snapshots in memory: they are rewritten every few seconds and by every state change, so
  // a restarted server loses nothing an owner does not write again at once; file storage
  // made every snapshot a disk write in the server, and the bus's p99 latency 13.6 ms
  // instead of 0.85 ms (bench/README.md "The bus").
  BucketSettings books_settings;
  books_settings.name = m.settings.books_bucket;
  books_settings.replicas = m.settings.replicas;
  books_settings.memory = true;
  auto books = m.nats->bucket(books_settings);
  if (!books.ok()) return books.status();
  m.books_kv = std::move(*books);
  // A memory stream does not outlive its server: after a reconnect (a restarted server)
  // the bucket is opened again, and so created when it is gone, on the keeper's thread.
  m.nats->on_reconnected([impl = &m] { impl->reopen_books.store(true, std::memory_order_relaxed); });
  auto leases = m.nats->bucket(
      {.name = m.settings.leases_bucket, .ttl_ns = m.settings.lease_ttl_ns, .replicas = m.settings.replicas});
  if (!leases.ok()) return leases.status();
  m.leases_kv = std::move(*leases);

  std::shared_ptr<std::atomic<bool>> alive = m.alive;
  Impl* impl = &m;
  auto on_acquired = [impl, alive](std::uint32_t shard, std::uint64_t) {
    if (!alive->load()) return;
    // Subscribe the shard's books (the engine posts the work to its thread), then start them.
    std::vector<std::pair<std::string, std::vector<std::string>>> per_venue;
    for (std::size_t i : impl->by_shard[shard]) {
      const PubBook& b = impl->books[i];
      auto it = std::find_if(per_venue.begin(), per_venue.end(), [&](const auto& p) { return p.first == b.venue; });
      if (it == per_venue.end()) it = per_venue.insert(per_venue.end(), {b.venue, {}});
      it->second.push_back(b.symbol);
    }
    for (const auto& [venue, symbols] : per_venue) {
      // A refusal (the engine's max_books, a symbol the venue refuses) leaves those books
      // unserved by this engine: said on stderr and counted, the shard kept for the others.
      if (absl::Status st = impl->engine->subscribe(venue, symbols); !st.ok()) {
        impl->subscribe_failures.fetch_add(1, std::memory_order_relaxed);
        std::fprintf(stderr, "obr bus: shard %u: subscribe %s: %s\n", shard, venue.c_str(),
                     std::string(st.message()).c_str());
      }
    }
    impl->engine->loop().post([impl, alive, shard] {
      if (alive->load()) impl->start_shard(shard);
    });
  };
  LeaseSettings ls{.engine_id = m.settings.engine_id,
                   .shards = m.settings.shards,
                   .ttl_ns = m.settings.lease_ttl_ns,
                   .settle_ns = m.settings.lease_settle_ns};
  ls.presence_subject = absl::StrCat(m.settings.subject_prefix, ".engines");
  m.leases = std::make_unique<LeaseKeeper>(*m.nats, *m.leases_kv, ls, on_acquired, nullptr);
  m.leases->on_step([impl, books_settings] {
    if (!impl->reopen_books.exchange(false, std::memory_order_relaxed)) return;
    if (!impl->nats->bucket(books_settings).ok()) impl->reopen_books.store(true, std::memory_order_relaxed);
  });

  auto sub = m.nats->subscribe(absl::StrCat(m.settings.subject_prefix, ".snap.>"), [impl, alive](const Delivery& d) {
    if (d.reply.empty() || !alive->load()) return;
    auto it = impl->by_request_subject.find(absl::string_view(d.subject.data(), d.subject.size()));
    if (it == impl->by_request_subject.end()) return;
    impl->engine->loop().post([impl, alive, i = it->second, reply = std::string(d.reply)] {
      if (alive->load()) impl->answer(i, reply);
    });
  });
  if (!sub.ok()) return sub.status();
  m.requests = std::move(*sub);
  engine.loop().post([impl, alive] {
    if (!alive->load()) return;
    impl->timer = std::make_unique<net::Timer>(impl->engine->loop());
    impl->tick();
  });
  m.leases->start();
  return absl::OkStatus();
}

void BusNode::on_book(std::string_view venue, std::string_view symbol, const book::OrderBook& book, bool top_changed,
                      std::int64_t recv_ns) {
  (void)top_changed;
  Impl& m = *impl_;
  if (m.stopped) return;
  PubBook* b = m.find(venue, symbol);
  if (b == nullptr) return;
  b->last_recv_ns = recv_ns;
  b->state = book.state();
  const bool was_owned = b->epoch != 0 && m.leases != nullptr && m.leases->epoch(b->shard) == b->epoch;
  if (!was_owned) {
    // Bring the view up to date unpublished; owned() then publishes it whole if the shard is held.
    const std::uint64_t keep = b->epoch;
    b->epoch = 0;
    m.sync_view(*b, book);
    b->epoch = keep;
    if (!m.owned(*b)) ++m.stats.not_owned;
    return;
  }
  if (m.sync_view(*b, book)) m.maybe_snapshot(*b, wall_ns());
}

void BusNode::on_book_state(std::string_view venue, std::string_view symbol, book::BookState from, book::BookState to,
                            connectors::StateReason reason) {
  (void)from;
  Impl& m = *impl_;
  if (m.stopped) return;
  PubBook* b = m.find(venue, symbol);
  if (b == nullptr) return;
  // The levels as they stand now travel under a state that is not live whenever either side
  // of the change is not: going live, the new levels go first (under the old state), so
  // a book is never shown live on its old levels; leaving live (a failed check), they go
  // under the new state, so levels that failed their check are never shown live.
  b->state = to == book::BookState::kLive ? from : to;
  const bool was_owned = b->epoch != 0 && m.leases != nullptr && m.leases->epoch(b->shard) == b->epoch;
  const std::uint64_t keep = b->epoch;
  if (!was_owned) b->epoch = 0;  // brought up to date unpublished: the lease is checked first
  if (m.engine != nullptr) {
    m.engine->for_each_book([&](std::string_view v, std::string_view s, const book::OrderBook& book) {
      if (v == venue && s == symbol) m.sync_view(*b, book);
    });
  }
  b->epoch = keep;
  b->state = to;
  if (!m.owned(*b)) return;
  m.publish(*b, MessageType::kState, static_cast<std::uint8_t>(reason));
  m.snapshot_to_bucket(*b, wall_ns());
}

void BusNode::stop() {
  Impl& m = *impl_;
  if (m.stopped) return;
  for (PubBook& b : m.books) {
    if (b.epoch == 0 || m.leases == nullptr || m.leases->epoch(b.shard) != b.epoch) continue;
    b.state = book::BookState::kStale;
    m.publish(b, MessageType::kState, static_cast<std::uint8_t>(connectors::StateReason::kDisconnected));
    m.snapshot_to_bucket(b, wall_ns());
  }
  m.stopped = true;
  m.timer.reset();  // on the engine's thread, while its loop exists
  (void)m.nats->flush(1'000'000'000);
  m.alive->store(false);
  if (m.leases) m.leases->stop(true);
  m.requests.reset();
}

bool BusNode::connected() const { return impl_->nats->connected(); }

BusStats BusNode::stats() const {
  BusStats s = impl_->stats;
  s.nats_disconnects = impl_->nats->disconnects();
  s.nats_reconnects = impl_->nats->reconnects();
  s.subscribe_failures = impl_->subscribe_failures.load(std::memory_order_relaxed);
  if (impl_->leases) s.leases = impl_->leases->stats();
  return s;
}

std::string BusNode::metrics() const {
  const BusStats s = stats();
  std::string out;
  struct Sample {
    std::string_view labels;  // "" or {k="v"}
    std::uint64_t value;
  };
  const auto family = [&out](std::string_view name, std::string_view type, std::string_view help,
                             std::initializer_list<Sample> samples) {
    engine::append_metric_header(out, name, type, help);
    for (const Sample& x : samples) {
      out.append(name).append(x.labels);
      absl::StrAppend(&out, " ", x.value, "\n");
    }
  };
  family("obr_bus_messages_total", "counter", "Book messages published on the bus, by type.",
         {{"{type=\"change\"}", s.changes}, {"{type=\"state\"}", s.states}, {"{type=\"view\"}", s.views}});
  family("obr_bus_bytes_total", "counter", "Bytes of the book messages published.", {{"", s.bytes}});
  family("obr_bus_publish_failures_total", "counter",
         "Publishes the NATS client refused (consumers see a gap and resync).", {{"", s.publish_failures}});
  family("obr_bus_snapshots_total", "counter", "Snapshots written to the books bucket.", {{"", s.snapshots}});
  family("obr_bus_heartbeats_total", "counter", "Heartbeats published, one per held shard each interval.",
         {{"", s.heartbeats}});
  family("obr_bus_snapshot_requests_total", "counter", "Snapshot requests answered.", {{"", s.snapshot_requests}});
  family("obr_bus_not_owned_total", "counter", "Book callbacks not published: the book's shard is not held here.",
         {{"", s.not_owned}});
  family("obr_bus_subscribe_failures_total", "counter", "Books of a taken shard the engine refused to subscribe.",
         {{"", s.subscribe_failures}});
  family("obr_bus_nats_events_total", "counter", "NATS connection events.",
         {{"{event=\"disconnect\"}", s.nats_disconnects}, {"{event=\"reconnect\"}", s.nats_reconnects}});
  family("obr_bus_nats_connected", "gauge", "Whether the NATS connection is up (1) or not (0).",
         {{"", connected() ? 1u : 0u}});
  family("obr_bus_lease_events_total", "counter", "Shard lease events (lost: taken by another engine, or lapsed).",
         {{"{event=\"acquired\"}", s.leases.acquired},
          {"{event=\"renewed\"}", s.leases.renewals},
          {"{event=\"lost\"}", s.leases.lost},
          {"{event=\"released\"}", s.leases.released},
          {"{event=\"error\"}", s.leases.errors}});
  family("obr_bus_shards_held", "gauge", "Shards whose books this engine publishes now.", {{"", s.leases.held}});
  family("obr_bus_engines_seen", "gauge", "Engines present on the bus, this one included.",
         {{"", s.leases.engines_seen}});
  return out;
}

std::pair<std::uint64_t, std::uint64_t> BusNode::published(std::string_view venue, std::string_view symbol) const {
  const PubBook* b = impl_->find(venue, symbol);
  if (b == nullptr || b->epoch == 0) return {0, 0};
  return {b->epoch, b->seq};
}

std::vector<std::uint32_t> BusNode::shards_held() const {
  std::vector<std::uint32_t> out;
  if (!impl_->leases) return out;
  for (std::uint32_t s = 0; s < impl_->settings.shards; ++s) {
    if (impl_->leases->epoch(s) != 0) out.push_back(s);
  }
  return out;
}

}  // namespace obr::bus

// engine/bus/replica.cpp — see replica.h and docs/bus.md "The replica".
#include "engine/bus/replica.h"

#include <absl/container/flat_hash_map.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "engine/bus/replica_book.h"
#include "engine/bus/wire.h"

namespace obr::replica {
namespace {

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using bus::ReplicaBook;
using Outcome = ReplicaBook::Outcome;

struct Entry {
  std::unique_ptr<ReplicaBook> book;
  std::string request_subject;  // PREFIX.snap.VENUE.SYMBOL
  std::string bucket_key;
  std::uint32_t index = 0;
  std::int64_t asked_ns = 0;  // a snapshot request outstanding since (0: none)
  int unanswered = 0;         // requests in a row without an answer that bridged
  book::BookState shown = book::BookState::kSubscribing;
};

}  // namespace

struct Replica::Impl {
  ReplicaSettings settings;
  engine::Listener* listener = nullptr;
  bus::Subjects subjects;
  std::unique_ptr<bus::NatsConnection> nats;
  std::unique_ptr<bus::KvBucket> bucket;
  std::vector<std::unique_ptr<bus::NatsSubscription>> subs;
  std::string inbox;  // _INBOX.RANDOM; answers come to INBOX.INDEX

  mutable std::mutex mu;
  std::vector<std::unique_ptr<Entry>> entries;
  absl::flat_hash_map<std::string, std::size_t> by_subject;  // changes subject → entry
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, std::size_t>> by_name;
  ReplicaStats stats;
  engine::LatencyHistogram latency;
  std::uint64_t malformed_reported = 0;
  bus::DecodedMessage msg;
  bus::Heartbeat hb;
  std::string error;

  std::thread housekeeping;
  std::condition_variable cv;
  bool stopping = false;

  std::int64_t silence() const { return settings.silence_ns > 0 ? settings.silence_ns : 3 * settings.heartbeat_ns; }

  Entry& add(const std::string& venue, const std::string& symbol) {
    auto e = std::make_unique<Entry>();
    e->book = std::make_unique<ReplicaBook>(venue, symbol);
    e->request_subject = subjects.snapshot_request(venue, symbol);
    e->bucket_key = bus::Subjects::book_key(venue, symbol);
    e->index = static_cast<std::uint32_t>(entries.size());
    by_subject[subjects.changes(venue, symbol)] = entries.size();
    by_name[venue][symbol] = entries.size();
    entries.push_back(std::move(e));
    ++stats.books;
    return *entries.back();
  }

  Entry* find(std::string_view venue, std::string_view symbol) const {
    auto v = by_name.find(absl::string_view(venue.data(), venue.size()));
    if (v == by_name.end()) return nullptr;
    auto s = v->second.find(absl::string_view(symbol.data(), symbol.size()));
    return s == v->second.end() ? nullptr : entries[s->second].get();
  }

  void report_malformed(std::string_view subject, const std::string& what) {
    ++stats.malformed;
    if (malformed_reported < 10) {
      ++malformed_reported;
      std::fprintf(stderr, "obr replica: %.*s: malformed message: %s\n", static_cast<int>(subject.size()),
                   subject.data(), what.c_str());
    }
  }

  // ask: a snapshot request to the owner (its answer comes to INBOX.INDEX).
  void ask(Entry& e, std::int64_t now) {
    e.asked_ns = now;
    ++e.unanswered;
    ++stats.snapshot_requests;
    const std::string reply = absl::StrCat(inbox, ".", e.index);
    nats->publish(e.request_subject, {}, reply.c_str());
  }

  // After any event: tell the listener what changed, and ask for a snapshot when needed.
  void after(Entry& e, Outcome o, bool levels_changed, std::int64_t now) {
    ReplicaBook& b = *e.book;
    b.sync_book_state();
    const book::BookState shown = b.shown_state();
    if (shown != e.shown) {
      const book::BookState from = e.shown;
      e.shown = shown;
      stats.books_live += shown == book::BookState::kLive ? 1 : 0;
      stats.books_live -= from == book::BookState::kLive ? 1 : 0;
      if (listener != nullptr) {
        listener->on_book_state(b.venue(), b.symbol(), from, shown,
                                shown == book::BookState::kLive ? connectors::StateReason::kSnapshotValid
                                                                : connectors::StateReason::kResubscribing);
      }
    }
    if (o == Outcome::kApplied) {
      if (settings.on_applied) settings.on_applied(b);
      e.unanswered = 0;
      e.asked_ns = b.in_sync() ? 0 : e.asked_ns;
      if (levels_changed && listener != nullptr) {
        if (shown == book::BookState::kLive) ++stats.live_callbacks;
        listener->on_book(b.venue(), b.symbol(), b.book(), b.top_changed_last(), b.last_recv_ns());
      }
    }
    if (o == Outcome::kResync && (e.asked_ns == 0 || now - e.asked_ns >= settings.snapshot_timeout_ns)) ask(e, now);
  }

  void sum_counters() {
    std::uint64_t applied = 0, resyncs = 0, gaps = 0, epochs = 0, stale = 0;
    for (const auto& e : entries) {
      const bus::ReplicaBookCounters& c = e->book->counters();
      applied += c.applied, resyncs += c.resyncs, gaps += c.gaps, epochs += c.epoch_changes, stale += c.stale_epoch;
    }
    stats.applied = applied, stats.resyncs = resyncs, stats.gaps = gaps, stats.epoch_changes = epochs;
    stats.stale_epoch = stale;
  }

  void on_change(const bus::Delivery& d) {
    const std::int64_t now = wall_ns();
    std::lock_guard<std::mutex> lock(mu);
    ++stats.messages;
    auto it = by_subject.find(absl::string_view(d.subject.data(), d.subject.size()));
    Entry* e = nullptr;
    if (it != by_subject.end()) {
      e = entries[it->second].get();
    } else if (settings.all) {
      std::string venue, symbol;
      if (!subjects.parse_changes(d.subject, venue, symbol)) {
        report_malformed(d.subject, "not a changes subject");
        return;
      }
      e = &add(venue, symbol);
    } else {
      return;
    }
    if (!bus::decode(d.data, msg, error)) {
      report_malformed(d.subject, error);
      return;
    }
    latency.record(now - msg.header.publish_ns);
    stats.changes += msg.header.type == bus::MessageType::kChange ? 1 : 0;
    const Outcome o = e->book->on_message(msg, d.data, now);
    after(*e, o, msg.header.type != bus::MessageType::kState, now);
  }

  void on_heartbeat(const bus::Delivery& d) {
    const std::int64_t now = wall_ns();
    std::lock_guard<std::mutex> lock(mu);
    ++stats.heartbeats;
    if (!bus::decode_heartbeat(d.data, hb, error)) {
      report_malformed(d.subject, error);
      return;
    }
    for (const bus::HeartbeatBook& hbb : hb.books) {
      Entry* e = find(hbb.venue, hbb.symbol);
      if (e == nullptr) {
        if (!settings.all) continue;
        e = &add(hbb.venue, hbb.symbol);
      }
      const Outcome o = e->book->on_heartbeat(hb.epoch, hbb.seq, now, settings.heartbeat_ns);
      after(*e, o, false, now);
    }
  }

  void on_answer(const bus::Delivery& d) {
    const std::int64_t now = wall_ns();
    std::uint32_t index = 0;
    const std::size_t dot = d.subject.rfind('.');
    if (dot == std::string_view::npos ||
        !absl::SimpleAtoi(absl::string_view(d.subject.data() + dot + 1, d.subject.size() - dot - 1), &index))
      return;
    std::lock_guard<std::mutex> lock(mu);
    if (index >= entries.size()) return;
    error.clear();
    if (!bus::decode(d.data, msg, error) || msg.header.type != bus::MessageType::kSnapshot) {
      report_malformed(d.subject, error.empty() ? "an answer that is not a snapshot" : error);
      return;
    }
    Entry& e = *entries[index];
    const Outcome o = e.book->on_snapshot(msg, now);
    if (o == Outcome::kResync) e.asked_ns = 0;  // older than what is buffered: ask again now
    after(e, o, true, now);
  }

  // The housekeeping thread: silence, heartbeats not reached, unanswered requests (after
  // two, the books bucket is read: an engine that just took the shard may not answer yet).
  void run() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stopping) {
      cv.wait_for(lock, std::chrono::nanoseconds(settings.check_interval_ns), [this] { return stopping; });
      if (stopping) break;
      const std::int64_t now = wall_ns();
      std::vector<std::size_t> read_bucket;
      // At most kBucketReadsPerRound synchronous reads a round, none while disconnected, so
      // that the round (and the silence it enforces) stays short when the server is slow.
      constexpr std::size_t kBucketReadsPerRound = 8;
      const bool connected = nats->connected();
      for (auto& ep : entries) {
        Entry& e = *ep;
        const Outcome o = e.book->check(now, silence());
        after(e, o, false, now);
        if (!e.book->in_sync() && (e.asked_ns == 0 || now - e.asked_ns >= settings.snapshot_timeout_ns)) {
          if (e.unanswered >= 2 && bucket != nullptr && connected && read_bucket.size() < kBucketReadsPerRound) {
            read_bucket.push_back(e.index);
          }
          ask(e, now);
        }
      }
      sum_counters();
      for (std::size_t i : read_bucket) {
        const std::string key = entries[i]->bucket_key;
        lock.unlock();
        auto got = bucket->get(key);
        lock.lock();
        if (stopping) break;
        if (!got.ok() || !got->has_value()) continue;
        ++stats.bucket_reads;
        std::string value = std::move((*got)->value);
        if (!bus::decode(value, msg, error)) {
          report_malformed(key, error);
          continue;
        }
        Entry& e = *entries[i];
        after(e, e.book->on_snapshot(msg, wall_ns(), /*from_owner=*/false), true, wall_ns());
      }
    }
  }
};

Replica::Replica(ReplicaSettings settings, engine::Listener* listener) : impl_(std::make_unique<Impl>()) {
  impl_->settings = std::move(settings);
  impl_->listener = listener;
  impl_->subjects.prefix = impl_->settings.subject_prefix;
}

Replica::~Replica() { stop(); }

absl::Status Replica::start() {
  Impl& m = *impl_;
  bus::NatsSettings ns = m.settings.nats;
  ns.shared_delivery = true;  // one delivery thread: ordered across subscriptions
  if (ns.name.empty()) ns.name = "obr replica";
  auto c = bus::NatsConnection::connect(ns);
  if (!c.ok()) return c.status();
  m.nats = std::move(*c);
  auto kv = m.nats->bucket({.name = m.settings.books_bucket});
  if (kv.ok()) m.bucket = std::move(*kv);  // without it, snapshots come only from the owners
  std::random_device rd;
  m.inbox = absl::StrCat("_INBOX.obr", rd(), rd());
  {
    std::lock_guard<std::mutex> lock(m.mu);
    for (const auto& [venue, symbol] : m.settings.books) {
      if (m.find(venue, symbol) == nullptr) m.add(venue, symbol);
    }
  }
  Impl* impl = &m;
  auto sub = [&](const std::string& subject, bus::Handler h) -> absl::Status {
    auto s = m.nats->subscribe(subject, std::move(h));
    if (!s.ok()) return s.status();
    m.subs.push_back(std::move(*s));
    return absl::OkStatus();
  };
  absl::Status st = sub(absl::StrCat(m.inbox, ".*"), [impl](const bus::Delivery& d) { impl->on_answer(d); });
  if (st.ok())
    st = sub(absl::StrCat(m.settings.subject_prefix, ".hb.>"),
             [impl](const bus::Delivery& d) { impl->on_heartbeat(d); });
  if (st.ok() && m.settings.all) {
    st = sub(absl::StrCat(m.settings.subject_prefix, ".d.>"), [impl](const bus::Delivery& d) { impl->on_change(d); });
  } else {
    for (const auto& [venue, symbol] : m.settings.books) {
      if (!st.ok()) break;
      st = sub(m.subjects.changes(venue, symbol), [impl](const bus::Delivery& d) { impl->on_change(d); });
    }
  }
  if (!st.ok()) return st;
  m.housekeeping = std::thread([impl] { impl->run(); });
  return absl::OkStatus();
}

void Replica::stop() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.stopping = true;
  }
  m.cv.notify_all();
  if (m.housekeeping.joinable()) m.housekeeping.join();
  m.subs.clear();
  m.bucket.reset();
  m.nats.reset();
}

bool Replica::visit(std::string_view venue, std::string_view symbol,
                    const std::function<void(const book::OrderBook&, book::BookState)>& f) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const Entry* e = impl_->find(venue, symbol);
  if (e == nullptr) return false;
  f(e->book->book(), e->shown);
  return true;
}

std::uint64_t Replica::epoch(std::string_view venue, std::string_view symbol) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const Entry* e = impl_->find(venue, symbol);
  return e == nullptr ? 0 : e->book->epoch();
}

bool Replica::top(std::string_view venue, std::string_view symbol, engine::TopOfBook& out) const {
  return visit(venue, symbol, [&out](const book::OrderBook& b, book::BookState s) {
    out = engine::TopOfBook{};
    out.bid_count = static_cast<std::uint8_t>(std::min(b.bids().size(), engine::TopOfBook::kLevels));
    out.ask_count = static_cast<std::uint8_t>(std::min(b.asks().size(), engine::TopOfBook::kLevels));
    for (std::size_t i = 0; i < out.bid_count; ++i) out.bids[i] = b.bids().at(i);
    for (std::size_t i = 0; i < out.ask_count; ++i) out.asks[i] = b.asks().at(i);
    out.price_scale = b.price_scale();
    out.qty_scale = b.qty_scale();
    out.state = s;
  });
}

book::BookState Replica::state(std::string_view venue, std::string_view symbol) const {
  book::BookState out = book::BookState::kSubscribing;
  visit(venue, symbol, [&out](const book::OrderBook&, book::BookState s) { out = s; });
  return out;
}

ReplicaStats Replica::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->sum_counters();
  ReplicaStats s = impl_->stats;
  for (const auto& sub : impl_->subs) s.dropped_by_client += sub->dropped();
  if (impl_->nats) s.nats_reconnects = impl_->nats->reconnects();
  return s;
}

void Replica::for_each_name(const std::function<void(const std::string&, const std::string&)>& f) const {
  std::vector<std::pair<std::string, std::string>> names;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (const auto& e : impl_->entries) names.emplace_back(e->book->venue(), e->book->symbol());
  }
  for (const auto& [venue, symbol] : names) f(venue, symbol);
}

void Replica::reset_latency() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->latency = engine::LatencyHistogram();
}

engine::LatencyHistogram Replica::latency() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->latency;
}

}  // namespace obr::replica

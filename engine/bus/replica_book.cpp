// engine/bus/replica_book.cpp — see replica_book.h and docs/bus.md "The replica".
#include "engine/bus/replica_book.h"

#include <utility>

namespace obr::bus {

ReplicaBook::ReplicaBook(std::string venue, std::string symbol)
    : venue_(std::move(venue)), symbol_(std::move(symbol)), book_(book::BookConfig{}) {}

void ReplicaBook::load_view(const DecodedMessage& m) {
  if (book_.price_scale() != m.header.price_scale || book_.qty_scale() != m.header.qty_scale) {
    book_.clear();
    book_.set_scales(m.header.price_scale, m.header.qty_scale);
  }
  book_.snapshot_begin();
  for (std::size_t i = 0; i < m.bids(); ++i) book_.snapshot_add(book::Side::kBid, m.bid(i));
  for (std::size_t i = 0; i < m.asks(); ++i) book_.snapshot_add(book::Side::kAsk, m.ask(i));
  book_.snapshot_end();
}

void ReplicaBook::apply(const DecodedMessage& m) {
  const std::uint64_t top_before = book_.top_version();
  switch (m.header.type) {
    case MessageType::kChange:
      for (std::size_t i = 0; i < m.bids(); ++i) book_.apply(book::Side::kBid, m.bid(i).price, m.bid(i).qty);
      for (std::size_t i = 0; i < m.asks(); ++i) book_.apply(book::Side::kAsk, m.ask(i).price, m.ask(i).qty);
      break;
    case MessageType::kView:
    case MessageType::kSnapshot:
      load_view(m);
      break;
    case MessageType::kState:
      break;
  }
  top_changed_ = book_.top_version() != top_before || m.header.type != MessageType::kChange;
  seq_ = m.header.seq;
  source_state_ = m.header.state;
  last_recv_ns_ = m.header.recv_ns;
  last_publish_ns_ = m.header.publish_ns;
  if (ahead_seq_ != 0 && seq_ >= ahead_seq_) ahead_seq_ = 0;
  ++counters_.applied;
}

void ReplicaBook::buffer(std::string_view raw) {
  if (buffered_.size() >= kMaxBuffered) {
    buffered_.pop_front();
    ++counters_.buffer_dropped;
  }
  buffered_.emplace_back(raw);
}

void ReplicaBook::lose_sync() {
  if (in_sync_) ++counters_.gaps;
  in_sync_ = false;
  ahead_seq_ = 0;
}

ReplicaBook::Outcome ReplicaBook::on_message(const DecodedMessage& m, std::string_view raw, std::int64_t now_ns) {
  const MessageHeader& h = m.header;
  if (h.epoch < highest_epoch_) {
    ++counters_.stale_epoch;
    return Outcome::kIgnored;
  }
  heard(now_ns);
  if (h.epoch > highest_epoch_) {
    if (highest_epoch_ != 0) ++counters_.epoch_changes;
    highest_epoch_ = h.epoch;
    in_sync_ = false;
    ahead_seq_ = 0;
    buffered_.clear();
  }
  if (in_sync_) {
    if (h.seq <= seq_) {
      ++counters_.duplicates;
      return Outcome::kIgnored;
    }
    if (h.seq == seq_ + 1) {
      apply(m);
      confirmed_ = true;
      return Outcome::kApplied;
    }
    lose_sync();  // a gap
  }
  // Out of sync: a view is a whole book at its sequence, so it bridges by itself.
  if (h.type == MessageType::kView || h.type == MessageType::kSnapshot) {
    buffered_.clear();
    epoch_ = h.epoch;
    apply(m);
    in_sync_ = ever_synced_ = true;
    confirmed_ = true;
    ++counters_.resyncs;
    return Outcome::kApplied;
  }
  buffer(raw);
  return buffered_.size() == 1 ? Outcome::kResync : Outcome::kBuffered;
}

ReplicaBook::Outcome ReplicaBook::drain_buffer(std::int64_t now_ns) {
  (void)now_ns;
  DecodedMessage m;
  std::string error;
  while (!buffered_.empty()) {
    if (!decode(buffered_.front(), m, error) || m.header.epoch < epoch_ ||
        (m.header.epoch == epoch_ && m.header.seq <= seq_)) {
      buffered_.pop_front();
      continue;
    }
    if (m.header.epoch != epoch_ || m.header.seq != seq_ + 1) break;
    apply(m);
    buffered_.pop_front();
  }
  if (!buffered_.empty()) {
    // The snapshot is older than what is buffered (or another epoch follows): ask again.
    in_sync_ = false;
    ++counters_.snapshots_unbridged;
    return Outcome::kResync;
  }
  return Outcome::kApplied;
}

ReplicaBook::Outcome ReplicaBook::on_snapshot(const DecodedMessage& s, std::int64_t now_ns, bool from_owner) {
  const MessageHeader& h = s.header;
  if (h.epoch < highest_epoch_) {
    ++counters_.stale_epoch;
    return in_sync_ ? Outcome::kIgnored : Outcome::kResync;
  }
  if (in_sync_ && h.epoch == epoch_ && h.seq <= seq_) return Outcome::kIgnored;  // nothing new
  if (from_owner) {
    heard(now_ns);
    confirmed_ = true;
  } else {
    confirmed_ = false;  // the bucket is not the source speaking
  }
  highest_epoch_ = h.epoch;
  epoch_ = h.epoch;
  apply(s);
  in_sync_ = true;
  const Outcome o = drain_buffer(now_ns);
  if (o == Outcome::kApplied) {
    ever_synced_ = true;
    ++counters_.resyncs;
  }
  return o;
}

ReplicaBook::Outcome ReplicaBook::on_heartbeat(std::uint64_t epoch, std::uint64_t seq, std::int64_t now_ns,
                                               std::int64_t grace_ns) {
  if (epoch < highest_epoch_) {
    ++counters_.stale_epoch;
    return Outcome::kIgnored;
  }
  // The source is heard; but a book it names ahead of this one is behind, and does not come
  // back from silence (or get confirmed) on the strength of it.
  last_heard_ns_ = now_ns, heard_ = true;
  if (epoch != epoch_ || seq <= seq_) silent_ = false;
  if (in_sync_ && epoch == epoch_ && seq == seq_) confirmed_ = true;
  if (epoch > highest_epoch_) {
    if (highest_epoch_ != 0) ++counters_.epoch_changes;
    highest_epoch_ = epoch;
    in_sync_ = false;
    ahead_seq_ = 0;
    buffered_.clear();
    return Outcome::kResync;
  }
  if (!in_sync_) return buffered_.empty() ? Outcome::kResync : Outcome::kBuffered;
  if (seq > seq_ && ahead_seq_ == 0) {
    ahead_seq_ = seq;
    ahead_deadline_ = now_ns + grace_ns;
  }
  return Outcome::kIgnored;
}

ReplicaBook::Outcome ReplicaBook::check(std::int64_t now_ns, std::int64_t silence_ns) {
  if (heard_ && now_ns - last_heard_ns_ > silence_ns) silent_ = true;
  if (in_sync_ && ahead_seq_ != 0 && now_ns >= ahead_deadline_) {
    lose_sync();
    return Outcome::kResync;
  }
  return Outcome::kIgnored;
}

book::BookState ReplicaBook::shown_state() const noexcept {
  if (!in_sync_) return ever_synced_ ? book::BookState::kResyncing : book::BookState::kSubscribing;
  if (silent_ || !confirmed_) return book::BookState::kStale;
  return source_state_;
}

}  // namespace obr::bus

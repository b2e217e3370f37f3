// engine/bus/replica_book.h — one book of a bus replica, as a state machine with no I/O
// (docs/bus.md "The replica"): messages, snapshots and heartbeats go in; the book, whether
// it may be shown live, and whether a snapshot must be asked for come out.
//
//   obr::bus::ReplicaBook b("kraken", "BTC/USD");
//   switch (b.on_message(decoded, raw, now_ns)) { case Outcome::kResync: ask for a snapshot ... }
//   b.on_snapshot(decoded_snapshot, now_ns);    // bridges the buffered messages by sequence
//   if (b.shown_state() == obr::book::BookState::kLive) ... b.book() ...
//
// Rules: messages of one epoch apply in sequence order, each exactly once; a gap, a higher
// epoch, or a heartbeat naming a sequence the book has not reached within the grace loses
// sync (the caller asks for a snapshot); a lower epoch than the highest seen is ignored
// (a former owner that has not noticed it lost its lease). While out of sync, messages are
// buffered (at most kMaxBuffered; beyond, the oldest are dropped and a later snapshot must
// cover them). A view message (the first of an epoch) or a snapshot bridges. The book is
// shown live only while it is in sync, its source says live, and the source was heard
// from within the silence limit.
//
// Thread-safety: one thread at a time (the replica holds a lock around it).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "book/book_state.h"
#include "book/order_book.h"
#include "engine/bus/wire.h"

namespace obr::bus {

struct ReplicaBookCounters {
  std::uint64_t applied = 0;              // messages applied in sequence
  std::uint64_t duplicates = 0;           // sequence already applied
  std::uint64_t stale_epoch = 0;          // messages and snapshots of an epoch below the highest seen
  std::uint64_t gaps = 0;                 // sync lost to a gap, a heartbeat ahead, or buffer overflow
  std::uint64_t epoch_changes = 0;        // sync lost to a higher epoch
  std::uint64_t resyncs = 0;              // times sync was regained (snapshot or view)
  std::uint64_t buffer_dropped = 0;       // buffered messages dropped for room
  std::uint64_t snapshots_unbridged = 0;  // snapshots older than the buffered messages
};

class ReplicaBook {
 public:
  enum class Outcome : std::uint8_t {
    kApplied,   // the book changed (or its source state did)
    kBuffered,  // held until a snapshot bridges it
    kIgnored,   // duplicate or stale epoch
    kResync,    // sync lost or not regained: the caller should ask for a snapshot
  };
  static constexpr std::size_t kMaxBuffered = 4096;

  ReplicaBook(std::string venue, std::string symbol);

  Outcome on_message(const DecodedMessage& m, std::string_view raw, std::int64_t now_ns);
  // on_snapshot: `from_owner` for the owner's answer; false for the books bucket's copy,
  // which may be behind: the book is then not shown live until its source confirms it (a
  // message applied in sequence, or a heartbeat at the book's sequence).
  Outcome on_snapshot(const DecodedMessage& s, std::int64_t now_ns, bool from_owner = true);
  // on_heartbeat: the owner says this book stands at `seq` in `epoch`. A sequence ahead of
  // the book's is given `grace_ns` to arrive (the heartbeat may overtake it on another
  // subscription) before check() declares a gap.
  Outcome on_heartbeat(std::uint64_t epoch, std::uint64_t seq, std::int64_t now_ns, std::int64_t grace_ns);
  // check: time passes. kResync when a heartbeat's sequence was not reached in its grace.
  // Silence past `silence_ns` makes the book not live (it stays in sync: the next message's
  // sequence says whether anything was lost).
  Outcome check(std::int64_t now_ns, std::int64_t silence_ns);
  // lose_sync: the caller knows messages may be lost (e.g. the subscription reported drops).
  void lose_sync();
  // sync_book_state: the book's own state() set to shown_state(), for readers of the book.
  void sync_book_state() noexcept { book_.set_state(shown_state()); }

  // shown_state: what a reader may believe: kLive only as described above; else the
  // source's state, kResyncing while out of sync after having been in it, kSubscribing
  // before the first sync, kStale when silent.
  book::BookState shown_state() const noexcept;
  bool in_sync() const noexcept { return in_sync_; }
  const book::OrderBook& book() const noexcept { return book_; }
  std::uint64_t epoch() const noexcept { return epoch_; }
  std::uint64_t seq() const noexcept { return seq_; }
  std::uint64_t highest_epoch() const noexcept { return highest_epoch_; }
  book::BookState source_state() const noexcept { return source_state_; }
  std::int64_t last_recv_ns() const noexcept { return last_recv_ns_; }
  std::int64_t last_publish_ns() const noexcept { return last_publish_ns_; }
  const ReplicaBookCounters& counters() const noexcept { return counters_; }
  const std::string& venue() const noexcept { return venue_; }
  const std::string& symbol() const noexcept { return symbol_; }
  // top_changed_last: whether the last kApplied changed the top 10 levels.
  bool top_changed_last() const noexcept { return top_changed_; }

 private:
  void apply(const DecodedMessage& m);
  void load_view(const DecodedMessage& m);
  void buffer(std::string_view raw);
  Outcome drain_buffer(std::int64_t now_ns);
  void heard(std::int64_t now_ns) { last_heard_ns_ = now_ns, heard_ = true, silent_ = false; }

  std::string venue_, symbol_;
  book::OrderBook book_;
  bool in_sync_ = false;
  bool ever_synced_ = false;
  bool silent_ = false;
  bool heard_ = false;
  bool confirmed_ = true;  // false after a bucket snapshot, until the source confirms it
  bool top_changed_ = false;
  std::uint64_t epoch_ = 0, seq_ = 0, highest_epoch_ = 0;
  book::BookState source_state_ = book::BookState::kSubscribing;
  std::int64_t last_heard_ns_ = 0, last_recv_ns_ = 0, last_publish_ns_ = 0;
  std::uint64_t ahead_seq_ = 0;      // a heartbeat's sequence not reached yet (0: none)
  std::int64_t ahead_deadline_ = 0;  // when it must have been reached
  std::deque<std::string> buffered_;
  ReplicaBookCounters counters_;
};

}  // namespace obr::bus

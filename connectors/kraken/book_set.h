// connectors/kraken/book_set.h — what Kraken v1 and v2 sessions share: the tracked books,
// their state transitions, the CRC32 check, and the per-book failure policy (invalidate,
// resubscribe that symbol only, circuit breaker with exponential backoff). The rules and
// Kraken's sources for them: docs/venues/kraken.md.
//
// The two protocol versions differ only in how frames look; a session derives from
// BookSet and supplies send_resubscribe() in its own wire format.
//
// Thread-safety: none; owned by one session.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/status/status.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "book/decimal.h"
#include "book/kraken_checksum.h"
#include "book/order_book.h"
#include "connectors/kraken/common.h"
#include "connectors/protocol/book_registry.h"
#include "connectors/protocol/session.h"

namespace obr::connectors::kraken::detail {

// A level as the wire spelled it: views into the frame buffer, valid for one message.
struct RawLevel {
  std::string_view price;
  std::string_view qty;
};

inline BreakerConfig breaker_of(const SessionConfig& c) {
  return BreakerConfig{
      .failures = c.breaker_failures, .backoff_ns = c.breaker_backoff_ns, .backoff_max_ns = c.breaker_backoff_max_ns};
}

// KrakenBook: the shared per-book part (id, symbol, book, circuit breaker;
// connectors/protocol/book_registry.h) and what Kraken adds.
struct KrakenBook : TrackedBook {
  KrakenBook(BookId book_id, std::string book_symbol, int book_depth)
      : TrackedBook(book_id, book_symbol,
                    book::BookConfig{.price_scale = 0,
                                     .qty_scale = 0,
                                     .depth_limit = static_cast<std::size_t>(book_depth),
                                     .reserve_levels = 0}),
        info{std::move(book_symbol), book_depth, false} {}
  BookInfo info;  // info.symbol == symbol
  book::KrakenChecksumCache crc;
  bool subscribe_pending = false;
  // scales_known: the book's price and qty scales are the instrument's precision (from the
  // instrument channel, or from lexemes that carried it). An empty snapshot carries none:
  // the book is live and empty, and its scales come from the first levels that arrive
  // (docs/venues/kraken.md "Precision", "Empty snapshot").
  bool scales_known = false;
};

// LevelsResult: what load_snapshot or apply_update found wrong, if anything. On an error
// `lexeme` is the offending text (a view into the frame) and `is_price` says which field.
struct LevelsResult {
  book::DecimalError error = book::DecimalError::kOk;
  std::string_view lexeme;
  bool is_price = false;
  int scale = 0;  // the scale the lexeme was read at
  bool ok() const noexcept { return error == book::DecimalError::kOk; }
};

class BookSet {
 public:
  explicit BookSet(const SessionConfig& config)
      : default_depth_(config.depth), breaker_(breaker_of(config)), conn_config_(config) {}
  virtual ~BookSet() = default;
  BookSet(const BookSet&) = delete;
  BookSet& operator=(const BookSet&) = delete;

  std::size_t size() const noexcept { return books_.size(); }
  KrakenBook& at(BookId id) { return books_.at(id); }
  const KrakenBook& at(BookId id) const { return books_.at(id); }
  const std::vector<std::unique_ptr<KrakenBook>>& all() const noexcept { return books_.all(); }

  // find: no allocation (heterogeneous lookup).
  KrakenBook* find(std::string_view symbol) noexcept { return books_.find(symbol); }
  // track returns the book for `symbol`, creating it at the default depth.
  KrakenBook& track(std::string_view symbol) { return books_.track(symbol, default_depth_); }

  // subscribe_books tracks `symbols` and sends one subscribe request for them (while
  // connected, when the session drives its connection; on_connected subscribes them all).
  void subscribe_books(const std::vector<std::string>& symbols, SessionSink& sink);

  // The connection (SessionConfig::drive_connection): start opens the first endpoint;
  // connected resubscribes every book and starts the ping clock; disconnected marks every
  // book stale and opens the next endpoint to try; tick runs the circuit breaker's retries
  // and the ping.
  void start(std::int64_t now_ns, SessionSink& sink);
  void connected(std::int64_t now_ns, SessionSink& sink);
  void disconnected(std::int64_t now_ns, SessionSink& sink);
  void tick(std::int64_t now_ns, SessionSink& sink);
  bool is_connected() const noexcept { return connected_; }
  // resubscribe_all: after a (re)connect every book is subscribing again, in one request.
  void resubscribe_all(SessionSink& sink);

  void set_state(KrakenBook& b, book::BookState to, StateReason why, SessionSink& sink) {
    BookRegistry<KrakenBook>::set_state(b, to, why, sink);
  }

  // check compares the book's CRC32 with the wire's and counts the result; on a match a
  // snapshot makes the book live, on a mismatch the book fails (see fail()).
  void check(KrakenBook& b, std::uint64_t wire, bool snapshot, std::int64_t now_ns, SessionSink& sink);

  // fail: a check failed or a message could not be applied: the book becomes invalid and
  // is resubscribed, or halted by the circuit breaker when it keeps failing
  // (docs/venues/kraken.md "Resync of one book", "Circuit breaker").
  void fail(KrakenBook& b, StateReason why, std::int64_t now_ns, SessionSink& sink);

  // resubscribe asks the venue for a fresh snapshot of this one book.
  void resubscribe(KrakenBook& b, SessionSink& sink);

  // on_tick retries books whose circuit-breaker backoff has elapsed.
  void on_tick(std::int64_t now_ns, SessionSink& sink);

  // stale_all marks every book stale (disconnect) or every live book stale (maintenance).
  void stale_all(bool only_live, StateReason why, SessionSink& sink) { books_.stale_all(only_live, why, sink); }
  // resubscribe_stale asks for a fresh snapshot of every stale book (after the venue's
  // maintenance ends: what was received before may be behind).
  void resubscribe_stale(SessionSink& sink);

  // on_venue_status handles Kraken's system status (v1 systemStatus, v2 status channel;
  // docs/venues/kraken.md "System status"): it reaches sink.venue_status; only
  // `maintenance` makes the live books stale. `cancel_only`, `post_only` and `limit_only`
  // restrict order entry, not the feed: the books keep changing and their checksums stay
  // valid, so they stay live. Leaving maintenance (any other status) resubscribes the
  // stale books, whose data may be behind.
  void on_venue_status(std::string_view status, SessionSink& sink);

  // reject_levels handles a book message whose levels could not be read at the book's
  // scales: a number past the int64 range halts the book (kOutOfRange: a fresh snapshot
  // would fail the same way, so no resync loop); any other decimal error fails it
  // (kMalformed: resubscribe). Reports the frame error (detail in `buf`) and returns it.
  // docs/venues/kraken.md "Numbers past the book's range", "Malformed frames".
  struct Rejection {
    FrameError error;
    std::string_view detail;
  };
  Rejection reject_levels(KrakenBook& b, const LevelsResult& r, bool snapshot, std::int64_t now_ns, char (&buf)[192],
                          SessionSink& sink);

  // load_snapshot replaces the book from raw levels; when the venue gave no precision
  // the scales come from the longest lexemes (Kraken prints every number at the
  // instrument's precision). An empty snapshot leaves the scales unknown (scales_known).
  // docs/venues/kraken.md "Precision", "Empty snapshot".
  static LevelsResult load_snapshot(KrakenBook& b, const std::vector<RawLevel>& bids,
                                    const std::vector<RawLevel>& asks);
  // apply_update applies raw levels in array order (bids then asks) and truncates. The
  // first levels after an empty snapshot set the scales from their lexemes.
  // docs/venues/kraken.md "Applying entries", "Truncation".
  static LevelsResult apply_update(KrakenBook& b, const std::vector<RawLevel>& bids, const std::vector<RawLevel>& asks);

 protected:
  // send_subscribe writes the venue's subscribe request for `list`.
  virtual void send_subscribe(const std::vector<const KrakenBook*>& list, SessionSink& sink) = 0;
  // send_resubscribe writes the venue's unsubscribe (echoing the depth) and subscribe.
  virtual void send_resubscribe(const KrakenBook& b, SessionSink& sink) = 0;
  // track_for_subscribe: track() plus whatever the version knows of a new symbol.
  virtual KrakenBook& track_for_subscribe(std::string_view symbol) { return track(symbol); }
  // send_ping writes the version's application ping.
  virtual void send_ping(SessionSink& sink) = 0;

 private:
  int default_depth_;
  BreakerConfig breaker_;
  SessionConfig conn_config_;  // drive_connection, endpoints, ping_interval_ns
  bool connected_ = false;
  bool opened_since_attempt_ = false;  // the last connection attempt opened
  std::size_t endpoint_index_ = 0;
  std::int64_t last_ping_ns_ = 0;
  BookRegistry<KrakenBook> books_;
  bool in_maintenance_ = false;  // `maintenance` seen; cleared by any other status
};

// append_json_string writes `s` as a JSON string literal (control path only).
void append_json_string(std::string& out, std::string_view s);

}  // namespace obr::connectors::kraken::detail

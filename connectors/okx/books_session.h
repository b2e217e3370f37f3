// connectors/okx/books_session.h — OKX v5 order books (`books`, `books5`,
// `books50-l2-tbt`) as a sans-I/O state machine. Every rule, with its source in OKX's
// documentation: docs/venues/okx.md.
//
//   obr::connectors::okx::BooksConfig config;                // .depth = 400: channel "books"
//   obr::connectors::okx::BooksSession session(config);
//   session.subscribe({"BTC-USDT", "BTC-USDT-SWAP"}, now_ns, sink);
//   session.start(now_ns, sink);                   // -> sink.open_connection(endpoint)
//   session.on_connected(now_ns, sink);            // -> {"id":"1","op":"subscribe","args":[…]}
//   session.on_frame(frame, now_ns, sink);         // answers, "pong", snapshots and updates
//   session.on_tick(now_ns, sink);                 // pings, answer and pong deadlines, retries
//
// Per book (docs/venues/okx.md "Books"): a snapshot replaces the book, never merged. An
// update applies only to a live book and, where the message carries seqId, only when its
// prevSeqId is the book's last seqId; that one rule admits OKX's two documented exceptions
// (the no-change message, prevSeqId == seqId with empty sides, and the sequence reset,
// seqId < prevSeqId). Size "0" deletes. Then the checksum, when the message carries one
// that is not 0 (OKX sends 0 since June 2026: docs/venues/okx.md "Checksum"), must equal
// the CRC32 of the book's top 25 (book/okx_checksum.h), computed through the book's own
// OkxChecksumCache, which rewrites only the levels a message changed. A failed check invalidates that
// book alone, which is unsubscribed and subscribed again for a fresh snapshot; the circuit
// breaker halts a book that keeps failing.
//
// Subscriptions (docs/venues/okx.md "Subscribing"): each request carries its own id; each
// channel's answer is matched to its book; an error answer refuses the books whose instId
// its message names (a multi-book request whose error names none is asked again book by
// book). Keepalive (docs/venues/okx.md "Keepalive"): the text `ping` when nothing arrived
// for ping_interval, `pong` due within pong_timeout, else the connection is closed.
//
// Malformed frames are counted and reported (frame_error); a book message that names a
// live book but cannot be read or applied invalidates that book (kMalformed). A price or
// size past int64 at the book's scale halts the book (kOutOfRange).
//
// PERFORMANCE: a message is read in one forward pass over its fields (any order; never a
// rewind, so unvalidated text is safe) with one reusable On Demand parser into reused
// buffers, and applied in place; after warm-up an update allocates nothing (test).
//
// Thread-safety: none; one session per connection, used from the connection's thread.
#pragma once

#include <absl/status/status.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "book/order_book.h"
#include "connectors/protocol/breaker.h"
#include "connectors/protocol/session.h"
#include "connectors/protocol/venue.h"

namespace obr::connectors::okx {

struct BooksConfig {
  // WebSocket endpoints tried in turn; empty: wss://ws.okx.com:8443/ws/v5/public.
  std::vector<std::string> endpoints;
  int depth = 400;                // the channel: 400 "books", 5 "books5", 50 "books50-l2-tbt"
  bool track_any_symbol = false;  // captures: track every instId the stream names
  bool drive_connection = true;   // false in replay: no connection, pings or deadlines
  std::size_t args_per_request = 100;
  std::int64_t ack_timeout_ns = 10'000'000'000;
  std::int64_t ping_interval_ns = 20'000'000'000;  // OKX: ping when nothing came for N < 30 s
  std::int64_t pong_timeout_ns = 10'000'000'000;
  BreakerConfig breaker;
  std::size_t max_frame_bytes = 1 << 20;
};

inline constexpr std::string_view kDefaultEndpoint = "wss://ws.okx.com:8443/ws/v5/public";

// channel_for: the channel of a depth ("" when OKX has none at that depth).
std::string_view channel_for(int depth) noexcept;
// depth_of: the levels a channel's snapshot holds (0 when it is not a book channel).
int depth_of(std::string_view channel) noexcept;

struct BooksBookInfo {
  std::string_view symbol;
  std::string_view channel;
  std::int64_t last_seq_id = -1;  // -1: none (before the first snapshot, or none sent)
  std::uint64_t checksums_checked = 0;
  std::uint64_t dropped_updates = 0;  // updates for the book while it was not live
  bool refused = false;
};

class BooksSession {
 public:
  explicit BooksSession(const BooksConfig& config);
  ~BooksSession();
  BooksSession(const BooksSession&) = delete;
  BooksSession& operator=(const BooksSession&) = delete;

  // subscribe adds books (sent now when the connection is open, else when it opens):
  // InvalidArgument naming an instId OKX cannot be asked for (nothing added).
  absl::Status subscribe(const std::vector<std::string>& symbols, std::int64_t now_ns, SessionSink& sink);
  void start(std::int64_t now_ns, SessionSink& sink);
  void on_connected(std::int64_t now_ns, SessionSink& sink);
  void on_disconnected(std::int64_t now_ns, SessionSink& sink);
  void on_frame(std::string_view frame, std::int64_t now_ns, SessionSink& sink);
  // on_http_response: OKX's books need no REST call; answers are ignored.
  void on_http_response(std::uint64_t id, std::string_view url, int status, std::string_view body, std::int64_t now_ns,
                        SessionSink& sink);
  void on_tick(std::int64_t now_ns, SessionSink& sink);

  std::size_t book_count() const noexcept;
  BookReport report(BookId id) const;
  const book::OrderBook& book(BookId id) const;
  BooksBookInfo info(BookId id) const;
  std::uint64_t malformed_frames() const noexcept;
  bool connected() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace obr::connectors::okx

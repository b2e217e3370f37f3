// connectors/kraken/v2_session.h — Kraken Spot WebSocket v2 `book` channel as a sans-I/O
// state machine (wss://ws.kraken.com/v2).
//
//   obr::connectors::kraken::V2Session session({.depth = 25});
//   session.subscribe({"BTC/USD", "ETH/USD"}, sink);     // -> sink.send_frame(subscribe)
//   session.on_frame(frame_text, recv_ns, sink);          // per received frame
//   session.on_tick(now_ns, sink);                        // timers (circuit-breaker retry)
//
// Rules implemented (docs/venues/kraken.md, which names Kraken's source for each): price
// and qty are taken from the raw JSON number token at the instrument's precision
// (instrument channel, else the snapshot's own lexemes; "Numbers", "Precision"); entries
// are applied in array order ("Applying entries"); the book is truncated to the subscribed
// depth after every message ("Truncation"); the CRC32 of the top 10 is checked on every
// snapshot and update ("Checksum"); on a mismatch only that book is invalidated and
// resubscribed (unsubscribe echoing the depth, then subscribe; "Resync of one book",
// "Circuit breaker"); every ack's `success` is checked ("Subscribe and acks", "Refused
// subscription"); only `status` maintenance makes books stale ("System status");
// `heartbeat` is liveness only ("Heartbeat and ping").
//
// PERFORMANCE: on_frame copies the frame into one reusable padded buffer. A book frame in
// the compact shape Kraken sends is read by a strict scanner in one pass
// (kraken/v2_book_frame.h); every other frame by one reusable simdjson On Demand parser.
// After warm-up a book message allocates nothing (KrakenV2Session.SteadyStateBookMessages-
// AllocateNothing in tests/connectors/kraken_v2_session_test.cpp).
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
#include "connectors/kraken/common.h"
#include "connectors/protocol/session.h"
#include "connectors/protocol/venue.h"

namespace obr::connectors::kraken {

using V2Config = SessionConfig;
using V2BookInfo = BookInfo;

class V2Session {
 public:
  explicit V2Session(const V2Config& config);
  ~V2Session();
  V2Session(const V2Session&) = delete;
  V2Session& operator=(const V2Session&) = delete;

  // The venue contract (connectors/protocol/venue.h). start opens the first endpoint when
  // the session drives its connection (V2Config::drive_connection). subscribe starts
  // tracking `symbols` and sends one subscribe request for them (while connected);
  // InvalidArgument naming a symbol Kraken cannot be asked for, and nothing tracked.
  void start(std::int64_t now_ns, SessionSink& sink);
  absl::Status subscribe(const std::vector<std::string>& symbols, std::int64_t now_ns, SessionSink& sink);
  void on_connected(std::int64_t now_ns, SessionSink& sink);
  void on_disconnected(std::int64_t now_ns, SessionSink& sink);
  // Kraken's books use no REST: nothing to do.
  void on_http_response(std::uint64_t, std::string_view, int, std::string_view, std::int64_t, SessionSink&) {}
  BookReport report(BookId id) const;

  // subscribe without a status (tests and tools that subscribe known-good symbols).
  void subscribe(const std::vector<std::string>& symbols, SessionSink& sink);

  // on_frame handles one received text frame. Never throws; bad frames are reported via
  // sink.frame_error and counted in malformed_frames().
  void on_frame(std::string_view frame, std::int64_t recv_ns, SessionSink& sink);

  // on_tick fires due timers (resubscribe after a circuit-breaker backoff).
  void on_tick(std::int64_t now_ns, SessionSink& sink);

  // on_disconnected marks every book stale (kept, flagged) and, when the session drives its
  // connection, asks for the next one; on_connected resubscribes every book. The forms
  // without a time are for tests that drive no connection.
  void on_disconnected(SessionSink& sink);
  void on_connected(SessionSink& sink);

  // ping sends {"method":"ping","req_id":N}; the venue answers with a pong. A session that
  // drives its connection pings by itself from on_tick.
  void ping(SessionSink& sink);

  std::size_t book_count() const noexcept;
  const book::OrderBook& book(BookId id) const;
  const V2BookInfo& info(BookId id) const;
  std::uint64_t malformed_frames() const noexcept { return malformed_; }
  std::uint64_t heartbeats() const noexcept { return heartbeats_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint64_t malformed_ = 0;
  std::uint64_t heartbeats_ = 0;
};

}  // namespace obr::connectors::kraken

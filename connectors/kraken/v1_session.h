// connectors/kraken/v1_session.h — Kraken Spot WebSocket v1 `book` channel as a sans-I/O
// state machine (wss://ws.kraken.com).
//
//   obr::connectors::kraken::V1Session session({.depth = 1000});
//   session.subscribe({"XBT/USD"}, sink);                 // -> sink.send_frame(subscribe)
//   session.on_frame(frame_text, recv_ns, sink);          // per received frame
//   session.on_tick(now_ns, sink);                        // circuit-breaker retries
//
// Rules implemented (docs/venues/kraken.md "Kraken v1", which names Kraken's source for
// each, and the rules it shares with v2): book messages are arrays
// `[channelID, {…}(, {…}), "book-N", "PAIR"]`; a snapshot has `as`/`bs`, an update `a`/`b`
// (possibly in two objects) with the checksum `"c"` (a quoted unsigned 32-bit integer) in
// the last one; each level is `[price, volume, timestamp(, "r")]` of quoted strings, read
// exactly as spelled (the republish flag `r` is applied like any update). There is no
// checksum on a snapshot, so a v1 snapshot makes the book live unchecked; every update is
// checked. Precision comes from the snapshot's lexemes (v1 prints fixed decimals). Entries
// are applied in array order, the book is truncated to the subscribed depth, and a mismatch
// resubscribes that pair only (unsubscribe echoing the depth, then subscribe); a pair that
// keeps failing trips the circuit breaker. Only `systemStatus` maintenance makes books
// stale (docs/venues/kraken.md "System status"); `subscriptionStatus` errors reach the
// user through venue_error.
//
// PERFORMANCE: one reusable padded buffer and simdjson On Demand parser; after warm-up an
// update allocates nothing (tests/connectors/kraken_v1_session_test.cpp).
//
// Thread-safety: none; one session per connection, used from the connection's thread.
#pragma once

#include <absl/status/status.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "book/order_book.h"
#include "connectors/kraken/common.h"
#include "connectors/protocol/session.h"
#include "connectors/protocol/venue.h"

namespace obr::connectors::kraken {

using V1Config = SessionConfig;

class V1Session {
 public:
  explicit V1Session(const V1Config& config);
  ~V1Session();
  V1Session(const V1Session&) = delete;
  V1Session& operator=(const V1Session&) = delete;

  // The venue contract (connectors/protocol/venue.h); see V2Session for each call.
  void start(std::int64_t now_ns, SessionSink& sink);
  absl::Status subscribe(const std::vector<std::string>& pairs, std::int64_t now_ns, SessionSink& sink);
  void on_connected(std::int64_t now_ns, SessionSink& sink);
  void on_disconnected(std::int64_t now_ns, SessionSink& sink);
  void on_http_response(std::uint64_t, std::string_view, int, std::string_view, std::int64_t, SessionSink&) {}
  BookReport report(BookId id) const;

  // subscribe starts tracking `pairs` (v1 names, e.g. "XBT/USD") and sends one request.
  void subscribe(const std::vector<std::string>& pairs, SessionSink& sink);
  // ping sends {"event":"ping","reqid":N}; the venue answers with a pong.
  void ping(SessionSink& sink);

  // on_frame handles one received text frame. Never throws; bad frames are reported via
  // sink.frame_error and counted in malformed_frames().
  void on_frame(std::string_view frame, std::int64_t recv_ns, SessionSink& sink);
  void on_tick(std::int64_t now_ns, SessionSink& sink);
  void on_disconnected(SessionSink& sink);
  void on_connected(SessionSink& sink);

  std::size_t book_count() const noexcept;
  const book::OrderBook& book(BookId id) const;
  const BookInfo& info(BookId id) const;
  std::uint64_t malformed_frames() const noexcept { return malformed_; }
  std::uint64_t heartbeats() const noexcept { return heartbeats_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint64_t malformed_ = 0;
  std::uint64_t heartbeats_ = 0;
};

}  // namespace obr::connectors::kraken

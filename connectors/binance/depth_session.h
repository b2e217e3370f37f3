// connectors/binance/depth_session.h — Binance spot and USD-M futures diff-depth books as a
// sans-I/O state machine: the combined-stream connection (SUBSCRIBE with each answer
// checked, paced and batched within the venue's limits) and, per book, the REST snapshot
// bridged to the buffered events exactly as Binance documents it. Every rule, with its
// source in Binance's documentation: docs/venues/binance.md.
//
//   obr::connectors::binance::DepthConfig config;             // spot; .market = kUsdm
//   obr::connectors::binance::DepthSession session(config);
//   session.subscribe({"BTCUSDT"}, now_ns, sink);
//   session.start(now_ns, sink);                   // -> sink.open_connection(endpoint)
//   session.on_connected(now_ns, sink);            // -> SUBSCRIBE btcusdt@depth@100ms
//   session.on_frame(frame, now_ns, sink);         // answers and depthUpdate events
//   session.on_http_response(id, url, status, body, now_ns, sink);   // /api/v3/depth
//   session.on_tick(now_ns, sink);                 // pacing, timeouts, retries, rotation
//
// Per book (docs/venues/binance.md "Bridging"): events are buffered from the subscription;
// the first buffered event sends the snapshot request (GET /api/v3/depth or /fapi/v1/depth,
// `limit` = the configured depth, weighed as Binance weighs it). When it answers with
// lastUpdateId S: buffered events wholly covered by S are dropped (spot: u <= S; USD-M:
// u < S); the first kept event must bracket the snapshot (spot: U <= S+1; USD-M: U <= S),
// else the snapshot is older than the stream and is fetched again (bounded, then halted
// with a backoff). Then every event, buffered or live, is held to the continuity rule
// (spot: U == last u + 1; USD-M: pu == last u); an event already covered (u <= last) is
// stale and skipped, not a failure; anything else is a gap, which invalidates that book
// alone: it buffers from that event on and is bridged again (the circuit breaker halts a
// book that keeps failing). Quantity 0 deletes. Levels beyond a partial snapshot's price
// range are kept but not vouched for: trusted_depth() counts only those inside it.
//
// A snapshot answered while the book is live (a capture whose recorder fetched one): a
// newer one (S > last) replaces the book (a snapshot never merges) and is bridged like any
// other; an older or equal one is ignored (counted as stale_snapshots).
//
// Malformed frames are counted and reported (frame_error); a depthUpdate that names a live
// book but cannot be read or applied invalidates that book (kMalformed) and bridges it
// again. A price or size past int64 at the book's scale halts the book (kOutOfRange) until
// the connection is replaced.
//
// PERFORMANCE: events are parsed with one reusable On Demand parser into reused buffers and
// applied in place; after warm-up an event allocates nothing (test).
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

namespace obr::connectors::binance {

// Market: which of Binance's APIs (their rules differ: docs/venues/binance.md).
enum class Market : std::uint8_t { kSpot, kUsdm };

struct DepthConfig {
  Market market = Market::kSpot;
  // WebSocket endpoints tried in turn (the combined-stream path, e.g.
  // wss://stream.binance.com:9443/stream); empty: the market's default.
  std::vector<std::string> endpoints;
  std::string rest_base;                     // empty: the market's default (https://api.binance.com)
  int snapshot_limit = 1000;                 // levels per side of the REST snapshot; sets its weight
  bool fast_updates = true;                  // <symbol>@depth@100ms; false: <symbol>@depth (1000 ms)
  bool track_any_symbol = false;             // captures: track every symbol the stream names
  bool drive_connection = true;              // false in replay: no connection, pacing or timeouts
  std::size_t max_buffered_deltas = 20'000;  // per book while bridging
  std::size_t max_book_levels = 100'000;     // per side (memory bound; rest_book.h)
  int max_snapshot_attempts = 5;             // snapshots that fail to line up, then halt
  std::int64_t halt_backoff_ns = 5'000'000'000;
  BreakerConfig breaker;  // gaps in a row on one book
  std::int64_t ack_timeout_ns = 10'000'000'000;
  // A subscribed book that receives no event for this long has its snapshot fetched anyway:
  // Binance answers a stream for an unknown symbol with success and then silence; the
  // snapshot's answer (-1121 "Invalid symbol") says what is wrong.
  std::int64_t first_event_timeout_ns = 10'000'000'000;
  std::size_t streams_per_connection = 1024;                   // Binance's limit
  std::size_t streams_per_request = 200;                       // SUBSCRIBE params per frame
  int messages_per_second = 0;                                 // frames sent per second; 0: the market's limit
  std::int64_t rotate_after_ns = 23LL * 3600 * 1'000'000'000;  // Binance cuts at 24 h
  static constexpr std::int64_t kNeverRotate = INT64_MAX;      // the driver rotates (the engine)
  std::size_t max_frame_bytes = 1 << 20;
};

// Defaults per market (docs/venues/binance.md "Endpoints").
std::string_view default_endpoint(Market m) noexcept;
std::string_view default_rest_base(Market m) noexcept;
std::string_view venue_name(Market m) noexcept;
// snapshot_weight: what a REST depth snapshot of `limit` levels costs (Binance's weights).
int snapshot_weight(Market m, int limit) noexcept;
// limit_ok: a depth limit Binance's REST snapshot accepts.
bool limit_ok(Market m, int limit) noexcept;

struct DepthBookInfo {
  std::string_view symbol;
  std::int64_t last_update_id = 0;  // the last applied u (the snapshot's lastUpdateId first)
  std::size_t buffered = 0;         // events waiting for the snapshot
  std::uint64_t stale_events = 0;   // events already covered by the book (skipped)
  std::uint64_t stale_snapshots = 0;
  std::uint64_t buffer_overflows = 0;
};

class DepthSession {
 public:
  explicit DepthSession(const DepthConfig& config);
  ~DepthSession();
  DepthSession(const DepthSession&) = delete;
  DepthSession& operator=(const DepthSession&) = delete;

  // subscribe adds books (sent now when the connection is open, else when it opens):
  // InvalidArgument naming a symbol Binance cannot be asked for, ResourceExhausted past
  // streams_per_connection (nothing added).
  absl::Status subscribe(const std::vector<std::string>& symbols, std::int64_t now_ns, SessionSink& sink);
  void start(std::int64_t now_ns, SessionSink& sink);
  void on_connected(std::int64_t now_ns, SessionSink& sink);
  void on_disconnected(std::int64_t now_ns, SessionSink& sink);
  void on_frame(std::string_view frame, std::int64_t now_ns, SessionSink& sink);
  // on_http_response: the answer to a request (id), or a capture's recorded one (id 0),
  // recognised by its URL.
  void on_http_response(std::uint64_t id, std::string_view url, int status, std::string_view body, std::int64_t now_ns,
                        SessionSink& sink);
  void on_tick(std::int64_t now_ns, SessionSink& sink);

  std::size_t book_count() const noexcept;
  BookReport report(BookId id) const;
  const book::OrderBook& book(BookId id) const;
  DepthBookInfo info(BookId id) const;
  // trusted_depth: levels per side (the smaller side) known exact; 0 unless live.
  std::size_t trusted_depth(BookId id) const;
  std::uint64_t malformed_frames() const noexcept;
  bool connected() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace obr::connectors::binance

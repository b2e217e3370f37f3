// connectors/kucoin/spot_session.h — KuCoin spot level2 (`/market/level2:SYMBOL`) as a
// sans-I/O state machine: the connection protocol (token, endpoint, welcome, ping, acks,
// rotation) and per-book calibration with sequence validation. Every rule, with its source
// in KuCoin's documentation: docs/venues/kucoin.md.
//
//   obr::connectors::kucoin::SpotSession session(config);
//   session.subscribe({"BTC-USDT", "ETH-USDT"});
//   session.start(now_ns, sink);             // -> sink.http_request(POST bullet-public)
//   session.on_http_response(id, 200, body, now_ns, sink);  // token -> sink.open_connection(url)
//   session.on_connected(now_ns, sink);      // wait for welcome, then subscribe
//   session.on_frame(frame, now_ns, sink);   // every received frame
//   session.on_tick(now_ns, sink);           // ping, timeouts, retries, rotation
//
// Connection: a fresh token at every (re)connect (never reused); connect to
// `endpoint?token=…&connectId=…` of instanceServers[i], the next i after a connection that
// failed before its welcome; no welcome within welcome_timeout -> close; ping every
// pingInterval, no pong within pingTimeout -> close; subscribe with response:true, up to
// 100 symbols per topic and 300 topics per connection, each ack checked (an error reply
// halts that batch's books and reaches venue_error; no ack in time -> close); the
// connection is rotated before KuCoin's 24-hour limit. After close_connection the
// transport calls on_disconnected, and the session asks for a new token.
//
// Calibration per book (KuCoin's procedure): deltas are buffered from the subscription;
// the first buffered delta triggers the REST snapshot (the full-depth v3 endpoint, signed,
// when credentials are configured; else the public level2_100). Every delta, buffered or
// live, is then held to KuCoin's continuity rule against the book's sequence `last` (the
// snapshot's, then each applied delta's sequenceEnd): sequenceEnd <= last -> a duplicate,
// skipped (not a failure); sequenceStart <= last+1 and sequenceEnd > last -> in order,
// even when it overlaps the book; sequenceStart > last+1 -> a gap. A gap in the buffer
// fetches the snapshot again (bounded); a gap on a live book invalidates that book only
// and recalibrates it. Per entry: sequence <= the book's -> skipped; price "0" -> only
// the sequence advances; size 0 -> delete. The buffer is bounded: overflow restarts
// calibration and is reported.
//
// Numbers past the book's range: a price or size that does not fit int64 at the book's
// scale (in the snapshot, a buffered or a live delta; or a level already in the book that
// a finer scale would push past int64) is reported as FrameError::kOutOfRange, naming the
// value and the limit, and halts that book (StateReason::kOutOfRange) without fetching
// again: a fresh snapshot would hold the same number. Its deltas and any recorded snapshot
// are ignored until the connection is replaced; the next connection calibrates it once
// more. Any other bad number is malformed (below).
//
// Malformed frames: an l2update naming a book (by data.symbol, or by its topic when the
// data or the symbol cannot be read) that cannot be read or applied (a missing or
// mistyped field, changes that are not [price, size, sequence] arrays, sequenceStart >
// sequenceEnd, a price or size that is not a decimal) is counted and reported
// (frame_error), and a live book leaves live: invalid, then resyncing, both with
// StateReason::kMalformed, and it recalibrates. A calibrating book keeps calibrating (the
// continuity rule finds the lost delta unless the snapshot covers it).
//
// Trusted depth: after a partial snapshot (level2_100 / level2_20) levels beyond the
// snapshot's price range are kept but not claimed exact; trusted_depth() counts only the
// levels inside it.
//
// PERFORMANCE: live deltas are parsed with one reusable On Demand parser into reused
// buffers and applied in place; after warm-up a delta allocates nothing (test).
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
#include "connectors/kucoin/signing.h"
#include "connectors/protocol/breaker.h"
#include "connectors/protocol/session.h"
#include "connectors/protocol/venue.h"

namespace obr::connectors::kucoin {

struct SpotConfig {
  std::string rest_base = "https://api.kucoin.com";
  Credentials credentials;                   // non-empty: full-depth signed snapshots
  bool track_any_symbol = false;             // replay: track symbols seen in deltas/snapshots
  bool drive_connection = true;              // false in replay: no token, ping, timeouts
  std::size_t max_buffered_deltas = 20'000;  // per book while calibrating
  // Levels kept per side (memory bound: 16 bytes a level). Beyond it the worst levels are
  // dropped and the side counts as bounded, like a partial snapshot: trusted_depth stops
  // at the last kept level. 0: unlimited.
  std::size_t max_book_levels = 100'000;
  int max_snapshot_attempts = 5;                 // snapshots that fail to line up, then halt
  BreakerConfig breaker;                         // gaps in a row on one live book, then halt
  std::int64_t halt_backoff_ns = 5'000'000'000;  // retry after a halt
  std::int64_t welcome_timeout_ns = 10'000'000'000;
  std::int64_t ack_timeout_ns = 10'000'000'000;
  std::int64_t token_retry_ns = 1'000'000'000;  // after a failed token request (doubles)
  std::int64_t token_retry_max_ns = 60'000'000'000;
  std::int64_t rotate_after_ns = 23LL * 3600 * 1'000'000'000;  // KuCoin drops at 24 h
  static constexpr std::int64_t kNeverRotate = INT64_MAX;      // the driver rotates (the engine)
  std::size_t symbols_per_topic = 100;                         // KuCoin's limit per topic
  std::size_t topics_per_connection = 300;                     // KuCoin's limit per connection
  std::size_t max_frame_bytes = 1 << 20;
  std::int64_t clock_ms_offset = 0;  // added to now/1e6 for KC-API-TIMESTAMP
};

// Where the connection is.
enum class ConnState : std::uint8_t { kIdle, kFetchingToken, kConnecting, kAwaitingWelcome, kReady };
std::string_view to_string(ConnState s) noexcept;

struct SpotBookInfo {
  std::string symbol;
  std::int64_t sequence = 0;       // the last applied sequence (snapshot's, then each delta's end)
  std::size_t buffered = 0;        // deltas waiting for calibration
  std::uint64_t stale_deltas = 0;  // deltas already covered by the book (skipped)
  std::uint64_t buffer_overflows = 0;
  int snapshot_depth_limit = 0;  // 0: full-depth snapshot; else levels per side requested
};

class SpotSession {
 public:
  explicit SpotSession(const SpotConfig& config);
  ~SpotSession();
  SpotSession(const SpotSession&) = delete;
  SpotSession& operator=(const SpotSession&) = delete;

  // subscribe adds symbols (sent at the next welcome, or now if the connection is ready).
  // False, and nothing added, when they would exceed 100 x 300 symbols per connection.
  bool subscribe(const std::vector<std::string>& symbols, SessionSink* sink = nullptr);
  // The venue contract's form (connectors/protocol/venue.h): InvalidArgument naming a
  // symbol KuCoin cannot be asked for, ResourceExhausted past the per-connection limit.
  absl::Status subscribe(const std::vector<std::string>& symbols, std::int64_t now_ns, SessionSink& sink);
  BookReport report(BookId id) const;

  // start asks for a token (POST /api/v1/bullet-public).
  void start(std::int64_t now_ns, SessionSink& sink);

  // on_http_response: the response to an http_request (id), or, in replay, a recorded
  // response (id 0) recognised by its URL.
  void on_http_response(std::uint64_t id, std::string_view url, int status, std::string_view body, std::int64_t now_ns,
                        SessionSink& sink);
  void on_connected(std::int64_t now_ns, SessionSink& sink);
  void on_disconnected(std::int64_t now_ns, SessionSink& sink);
  void on_frame(std::string_view frame, std::int64_t now_ns, SessionSink& sink);
  void on_tick(std::int64_t now_ns, SessionSink& sink);

  ConnState conn_state() const noexcept;
  const std::string& connect_id() const noexcept;
  std::size_t book_count() const noexcept;
  const book::OrderBook& book(BookId id) const;
  SpotBookInfo info(BookId id) const;
  // trusted_depth: levels per side (the smaller side) known exact.
  std::size_t trusted_depth(BookId id) const;
  std::uint64_t malformed_frames() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace obr::connectors::kucoin

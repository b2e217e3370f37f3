// connectors/bybit/orderbook_session.h — Bybit v5 `orderbook.{depth}.{symbol}` books (spot,
// linear and inverse; one WebSocket API each) as a sans-I/O state machine. Every rule, with
// its source in Bybit's documentation: docs/venues/bybit.md.
//
//   obr::connectors::bybit::OrderbookConfig config;          // .category = kLinear, .depth = 200
//   obr::connectors::bybit::OrderbookSession session(config);
//   session.subscribe({"BTCUSDT"}, now_ns, sink);
//   session.start(now_ns, sink);                   // -> sink.open_connection(endpoint)
//   session.on_connected(now_ns, sink);            // -> {"req_id":"1","op":"subscribe","args":[…]}
//   session.on_frame(frame, now_ns, sink);         // answers, pongs, snapshots and deltas
//   session.on_tick(now_ns, sink);                 // pings, answer and pong deadlines, retries
//
// Per book (docs/venues/bybit.md "Books"): a `snapshot` replaces the book, never merged; so
// does any message with u == 1 (the service restarted). A `delta` applies only to a live
// book and only with u == the last u + 1; size "0" deletes, an unknown price inserts. Any
// other u is a failed check: that book alone becomes invalid and its topic is unsubscribed
// and subscribed again for a fresh snapshot (the circuit breaker halts a book that keeps
// failing). Bybit keeps the book at the topic's depth itself (it sends the deletes and the
// refills), so the client never truncates, and a side longer than the depth is a failed
// check too. Deltas for a book that is not live are dropped and counted
// (dropped_deltas), never applied.
//
// Subscriptions (docs/venues/bybit.md "Subscribing"): at most 10 topics per request, each
// request with its own req_id and its answer checked; `success:false` refuses the books
// whose topics the answer names (a multi-topic answer that names none is retried topic by
// topic, so that the venue says which). Keepalive (docs/venues/bybit.md "Keepalive"):
// {"op":"ping"} every ping_interval, its pong due within pong_timeout, else the
// connection is closed (the driver reconnects).
//
// Malformed frames are counted and reported (frame_error); a book message that names a
// live book but cannot be read or applied invalidates that book (kMalformed) and
// resubscribes it. A price or size past int64 at the book's scale halts the book
// (kOutOfRange) until the connection is replaced.
//
// PERFORMANCE: a book message is read forward, in Bybit's field order, with one reusable
// On Demand parser into a reused buffer, and applied in place; after warm-up a delta
// allocates nothing (test).
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

namespace obr::connectors::bybit {

// Category: which of Bybit's v5 public APIs (docs/venues/bybit.md "Endpoints").
enum class Category : std::uint8_t { kSpot, kLinear, kInverse };

struct OrderbookConfig {
  Category category = Category::kLinear;
  // WebSocket endpoints tried in turn; empty: the category's default
  // (wss://stream.bybit.com/v5/public/<category>).
  std::vector<std::string> endpoints;
  int depth = 200;                      // the topic's depth: 1, 50, 200 or 1000 (depth_ok)
  bool track_any_symbol = false;        // captures: track every symbol the stream names, at its topic's depth
  bool drive_connection = true;         // false in replay: no connection, pings or deadlines
  std::size_t topics_per_request = 10;  // Bybit's limit of args per subscribe request (spot's; the smallest)
  std::size_t max_args_chars = 21'000;  // Bybit's limit on a connection's args, in characters
  std::int64_t ack_timeout_ns = 10'000'000'000;
  std::int64_t ping_interval_ns = 20'000'000'000;  // Bybit recommends a ping every 20 s
  std::int64_t pong_timeout_ns = 10'000'000'000;
  BreakerConfig breaker;  // failed checks in a row on one book
  std::size_t max_frame_bytes = 1 << 20;
};

// Per category (docs/venues/bybit.md "Endpoints").
std::string_view default_endpoint(Category c) noexcept;
std::string_view venue_name(Category c) noexcept;
// depth_ok: a depth the category's orderbook topic offers.
bool depth_ok(Category c, int depth) noexcept;

struct OrderbookBookInfo {
  std::string_view symbol;
  std::string_view topic;            // "orderbook.200.BTCUSDT"
  std::int64_t last_update_id = -1;  // the last applied u; -1 before the first snapshot
  std::uint64_t dropped_deltas = 0;  // deltas for the book while it was not live
  bool refused = false;              // the venue refused the topic
};

class OrderbookSession {
 public:
  explicit OrderbookSession(const OrderbookConfig& config);
  ~OrderbookSession();
  OrderbookSession(const OrderbookSession&) = delete;
  OrderbookSession& operator=(const OrderbookSession&) = delete;

  // subscribe adds books (sent now when the connection is open, else when it opens):
  // InvalidArgument naming a symbol Bybit cannot be asked for, ResourceExhausted past the
  // connection's args limit (nothing added).
  absl::Status subscribe(const std::vector<std::string>& symbols, std::int64_t now_ns, SessionSink& sink);
  void start(std::int64_t now_ns, SessionSink& sink);
  void on_connected(std::int64_t now_ns, SessionSink& sink);
  void on_disconnected(std::int64_t now_ns, SessionSink& sink);
  void on_frame(std::string_view frame, std::int64_t now_ns, SessionSink& sink);
  // on_http_response: Bybit's books need no REST call; answers are ignored.
  void on_http_response(std::uint64_t id, std::string_view url, int status, std::string_view body, std::int64_t now_ns,
                        SessionSink& sink);
  void on_tick(std::int64_t now_ns, SessionSink& sink);

  std::size_t book_count() const noexcept;
  BookReport report(BookId id) const;
  const book::OrderBook& book(BookId id) const;
  OrderbookBookInfo info(BookId id) const;
  std::uint64_t malformed_frames() const noexcept;
  bool connected() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace obr::connectors::bybit

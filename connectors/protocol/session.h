// connectors/protocol/session.h — the sans-I/O contract between a venue's protocol core
// and whatever drives it (the live transport or the replayer).
//
// A session is fed events (connected, frame received, timer fired, disconnected) and
// answers through a SessionSink: frames to send, books that changed, book state changes,
// errors. The same session object runs live and in replay, so replay reproduces live
// behaviour exactly.
//
// Thread-safety: a session and its sink are used from one thread (the connection's).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "book/book_state.h"
#include "book/decimal.h"
#include "book/order_book.h"

namespace obr::connectors {

// Why a book changed state; reported beside every transition.
enum class StateReason : std::uint8_t {
  kSubscribed = 0,    // the venue acknowledged the subscription
  kSnapshotValid,     // a snapshot passed its check: live
  kChecksumMismatch,  // an update's or snapshot's checksum did not match
  kSequenceGap,       // a sequence number was skipped
  kMalformed,         // a frame for this book could not be applied
  kResubscribing,     // the session asked the venue for a fresh snapshot
  kUnsubscribed,      // the venue confirmed an unsubscribe
  kSubscribeRefused,  // the venue refused the subscription (e.g. unsupported depth)
  kMaintenance,       // the venue reported maintenance: the book is kept but stale
  kDisconnected,      // the connection went away: the book is kept but stale
  kCircuitOpen,       // too many failures in a row: halted, retried after a backoff
  kBufferOverflow,    // too many updates buffered while calibrating: calibration restarted
  kSnapshotRetry,     // the snapshot did not line up with the buffered updates: fetched again
  kOutOfRange,        // a price or quantity past what the book's int64 holds at its scale:
                      // halted (a fresh snapshot would fail the same way), never a resync loop
};

constexpr std::string_view to_string(StateReason r) noexcept {
  switch (r) {
    case StateReason::kSubscribed:
      return "subscribed";
    case StateReason::kSnapshotValid:
      return "snapshot_valid";
    case StateReason::kChecksumMismatch:
      return "checksum_mismatch";
    case StateReason::kSequenceGap:
      return "sequence_gap";
    case StateReason::kMalformed:
      return "malformed";
    case StateReason::kResubscribing:
      return "resubscribing";
    case StateReason::kUnsubscribed:
      return "unsubscribed";
    case StateReason::kSubscribeRefused:
      return "subscribe_refused";
    case StateReason::kMaintenance:
      return "maintenance";
    case StateReason::kDisconnected:
      return "disconnected";
    case StateReason::kCircuitOpen:
      return "circuit_open";
    case StateReason::kBufferOverflow:
      return "buffer_overflow";
    case StateReason::kSnapshotRetry:
      return "snapshot_retry";
    case StateReason::kOutOfRange:
      return "out_of_range";
  }
  return "unknown";
}

// FrameError classifies a frame the session could not use. Counted, reported, never fatal.
enum class FrameError : std::uint8_t {
  kNotJson = 0,      // not parseable as JSON
  kUnexpectedShape,  // JSON, but a required field is missing or has the wrong type
  kBadNumber,        // a price or quantity is not a valid decimal at the book's scale
  kUnknownSymbol,    // a book message for a symbol this session does not track
  kTooLarge,         // over the session's maximum frame size
  kOutOfRange,       // a price or quantity past the book's int64 range at its scale
};

constexpr std::string_view to_string(FrameError e) noexcept {
  switch (e) {
    case FrameError::kNotJson:
      return "not JSON";
    case FrameError::kUnexpectedShape:
      return "unexpected message shape";
    case FrameError::kBadNumber:
      return "bad decimal number";
    case FrameError::kUnknownSymbol:
      return "unknown symbol";
    case FrameError::kTooLarge:
      return "frame too large";
    case FrameError::kOutOfRange:
      return "number out of range";
  }
  return "unknown";
}

// unknown_symbol_detail: the frame_error detail for a kUnknownSymbol frame, which names
// the symbol (never empty: a detail always says something).
constexpr std::string_view unknown_symbol_detail(std::string_view symbol) noexcept {
  return symbol.empty() ? std::string_view("(empty symbol)") : symbol;
}

// out_of_range_detail writes the frame_error detail for a price or quantity past what an
// int64 holds at the book's scale, naming the value and the limit, e.g. "qty
// 123456789012.12345678 is past the book's range (at 8 decimals at most
// 92233720368.54775807)". The text goes into `buf` (no allocation; a longer text is
// cut); the view returned points into it. Error path only.
template <std::size_t N>
std::string_view out_of_range_detail(char (&buf)[N], std::string_view what, std::string_view lexeme,
                                     int scale) noexcept {
  static_assert(N >= 160);
  char limit[book::kMaxDecimalChars];
  const std::size_t limit_len = (scale >= 0 && scale <= book::kMaxScale)
                                    ? book::format_decimal(std::numeric_limits<std::int64_t>::max(), scale, limit)
                                    : 0;
  const int n = std::snprintf(buf, N, "%.*s %.*s is past the book's range (at %d decimals at most %.*s)",
                              static_cast<int>(std::min<std::size_t>(what.size(), 16)), what.data(),
                              static_cast<int>(std::min<std::size_t>(lexeme.size(), 64)), lexeme.data(), scale,
                              static_cast<int>(limit_len), limit);
  return std::string_view(buf, n <= 0 ? 0 : std::min(static_cast<std::size_t>(n), N - 1));
}

// deadline_after: now_ns + delay_ns, saturating at the ends of int64. A session takes its
// times from its driver, and a recording may hold any time up to INT64_MAX: a deadline past
// the end of time is one that never comes, never an overflow.
constexpr std::int64_t deadline_after(std::int64_t now_ns, std::int64_t delay_ns) noexcept {
  std::int64_t out = 0;
  if (!__builtin_add_overflow(now_ns, delay_ns, &out)) return out;
  return delay_ns > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

// saturating_mul: v * m (m > 0), held at the ends of int64. Used where the product keeps its
// meaning there: an interval in coarser units as ns, a backoff doubled per trip (past
// int64, a wait that never ends), a price bound in finer units (past int64, every price an
// int64 holds lies on the same side of it).
constexpr std::int64_t saturating_mul(std::int64_t v, std::int64_t m) noexcept {
  std::int64_t out = 0;
  if (!__builtin_mul_overflow(v, m, &out)) return out;
  return v > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

// BookId is a dense index assigned by the session when it first tracks a symbol.
using BookId = std::uint32_t;

// HttpRequest is a REST call a session needs (token, snapshot). The transport performs it
// (with its rate limits) and hands the response back to the session with the same id.
struct HttpRequest {
  std::uint64_t id = 0;
  std::string method;  // "GET" or "POST"
  std::string url;     // absolute: https://host/path?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // How the driver paces it. `weight`: what it costs against the venue's REST budget (the
  // driver's token bucket; 0: not paced there — the venue does not count it). A
  // `connection_step` (a token for the next connection) is spaced out like a reconnect:
  // after a disconnect it waits for the driver's backoff.
  double weight = 1;
  bool connection_step = false;
};

// SessionSink receives a session's actions. Every method is called on the session's
// thread, synchronously, in order. The views passed are valid only during the call.
class SessionSink {
 public:
  virtual ~SessionSink() = default;
  // send_frame: a text frame for the venue (subscribe, unsubscribe, ping).
  virtual void send_frame(std::string_view frame) = 0;
  // book_updated: `book` was changed by a message and is in state `book.state()`.
  // `top_changed` is true when the top 10 of either side may have changed.
  virtual void book_updated(BookId id, std::string_view symbol, const book::OrderBook& book, bool top_changed) = 0;
  // book_state_changed: every transition, with its reason.
  virtual void book_state_changed(BookId id, std::string_view symbol, book::BookState from, book::BookState to,
                                  StateReason reason) = 0;
  // frame_error: a frame that could not be used; `detail` says what (never per-message
  // allocation: detail points at static text or into the frame).
  virtual void frame_error(FrameError error, std::string_view detail) = 0;
  // venue_error: an error the venue reported (e.g. a refused subscription).
  virtual void venue_error(std::string_view symbol, std::string_view message) = 0;
  // venue_status: the venue's trading status as it reported it (Kraken's "online",
  // "maintenance", "cancel_only", "post_only", "limit_only"). Only a status the venue
  // documents as stopping the book's data makes books stale; the others are reported here
  // and the books stay live (docs/venues/kraken.md). Default: ignored.
  virtual void venue_status(std::string_view status) { (void)status; }
  // Connection actions, for venues whose session drives the connection itself (KuCoin:
  // token, endpoint, welcome, ping). Defaults do nothing, so simple sinks need not care.
  // http_request: perform `request` and call the session's on_http_response with its id.
  virtual void http_request(const HttpRequest& request) { (void)request; }
  // open_connection: connect the WebSocket to `url`; then call on_connected (or
  // on_disconnected if it fails).
  virtual void open_connection(std::string_view url) { (void)url; }
  // close_connection: close the WebSocket (then call on_disconnected); `reason` is for logs.
  virtual void close_connection(std::string_view reason) { (void)reason; }
};

// NullSink ignores everything; a base for sinks that care about a few actions.
class NullSink : public SessionSink {
 public:
  void send_frame(std::string_view) override {}
  void book_updated(BookId, std::string_view, const book::OrderBook&, bool) override {}
  void book_state_changed(BookId, std::string_view, book::BookState, book::BookState, StateReason) override {}
  void frame_error(FrameError, std::string_view) override {}
  void venue_error(std::string_view, std::string_view) override {}
};

}  // namespace obr::connectors

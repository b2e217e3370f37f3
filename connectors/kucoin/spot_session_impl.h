// connectors/kucoin/spot_session_impl.h — SpotSession's internals, shared by its two
// sources (private to connectors/kucoin: include it nowhere else).
//
// In order: wire helpers (RawChange, decimal places, query parameters);
// the per-book and per-server state; SpotSession::Impl. Its methods are defined in
// spot_session.cpp (connection: token, endpoint, subscriptions; the public API; frame
// handling) and spot_calibration.cpp (the books: REST snapshot, buffering, applying
// deltas by sequence, depth bound, retries; on_delta).
#pragma once

#include <absl/container/flat_hash_map.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "book/decimal.h"
#include "book/sequence_tracker.h"
#include "connectors/kucoin/spot_session.h"
#include "connectors/protocol/book_registry.h"
#include "connectors/protocol/frame_buffer.h"
#include "connectors/protocol/json_text.h"
#include "connectors/protocol/json_validator.h"
#include "connectors/protocol/rest_book.h"
#include "connectors/protocol/session_basics.h"
#include "connectors/protocol/snapshot_bridge.h"

namespace obr::connectors::kucoin {
namespace detail {

namespace od = simdjson::ondemand;
using book::BookState;
using book::Side;

inline constexpr std::string_view kSuccessCode = "200000";

// topic_symbol: the symbol a level2 push names in its topic ("/market/level2:BTC-USDT"),
// or "" when it names none. Read only for a frame that could not be read otherwise, so it
// scans the frame's text: the parser may be in an error state by then, and an object read
// from it must not be touched again (found by fuzzing: UB inside simdjson).
inline std::string_view topic_symbol(std::string_view frame) noexcept {
  constexpr std::string_view kKey = "\"topic\":\"/market/level2:";
  const std::size_t at = frame.find(kKey);
  if (at == std::string_view::npos) return {};
  const std::string_view rest = frame.substr(at + kKey.size());
  const std::size_t end = rest.find_first_of("\"\\");
  if (end == std::string_view::npos || rest[end] != '"') return {};
  return rest.substr(0, end);
}

// SpotBook: a book calibrated from its REST snapshot (connectors/protocol/rest_book.h
// BridgedBook: KuCoin's continuity, book::SequenceTracker::check_overlapping,
// docs/venues/kucoin.md "Continuity"; the buffered deltas, the fetch, the trusted range) and
// the depth of its last snapshot's endpoint.
struct SpotBook : BridgedBook {
  using BridgedBook::BridgedBook;
  int snapshot_limit = 0;  // levels per side of the last snapshot's endpoint; 0 full
};

struct Server {
  std::string endpoint;
  std::int64_t ping_interval_ns = 18'000'000'000;
  std::int64_t ping_timeout_ns = 10'000'000'000;
};

struct PendingAck {
  std::uint64_t id;
  std::int64_t deadline_ns;
  std::vector<BookId> books;
};

}  // namespace detail

// The two sources use these helpers unqualified (this header is private to them).
using namespace detail;

struct SpotSession::Impl : SessionBasics {
  explicit Impl(const SpotConfig& c) : config(c) {}

  SpotConfig config;
  od::parser parser;
  FrameBuffer frame{simdjson::SIMDJSON_PADDING};
  JsonValidator validator;  // control messages are validated whole first
  BookRegistry<SpotBook> books;
  std::vector<RawChange> raw;  // the current message's changes
  RangeError range;            // set with every LevelResult::kOutOfRange
  std::string out;

  // connection
  ConnState conn = ConnState::kIdle;
  std::uint64_t next_id = 1;
  std::uint64_t token_request = 0;
  std::int64_t token_retry_at = -1;
  std::int64_t token_backoff_ns = 0;
  std::vector<Server> servers;
  std::size_t server_index = 0;
  std::string token;
  std::string connect_id;
  std::uint64_t connects = 0;
  std::int64_t connected_at = 0;
  std::int64_t welcome_deadline = -1;
  std::int64_t next_ping_at = -1;
  std::int64_t pong_deadline = -1;
  std::string ping_id;
  std::vector<PendingAck> acks;

  bool driving() const { return config.drive_connection; }

  SpotBook* find(std::string_view symbol) { return books.find(symbol); }
  SpotBook& track(std::string_view symbol) { return books.track(symbol); }
  void set_state(SpotBook& b, BookState to, StateReason why, SessionSink& sink) {
    BookRegistry<SpotBook>::set_state(b, to, why, sink);
  }

  // ---- connection ----------------------------------------------------------------
  void request_token(SessionSink& sink);
  void token_failed(std::int64_t now_ns, SessionSink& sink, std::string_view why);
  void on_token(std::string_view body, int status, std::int64_t now_ns, SessionSink& sink);
  void send_subscriptions(const std::vector<SpotBook*>& list, std::int64_t now_ns, SessionSink& sink);

  // ---- calibration ---------------------------------------------------------------
  void request_snapshot(SpotBook& b, SessionSink& sink);

  // gap: a check failed on a live book: invalid, then calibrated again (or halted by the
  // breaker, when driving); rest_book.h fail_live.
  void gap(SpotBook& b, StateReason why, SessionSink& sink) {
    fail_live(books, b, why, driving() ? &config.breaker : nullptr, last_now_ns, sink);
  }
  // buffer keeps the current message's changes (`raw`) until the snapshot arrives
  // (rest_book.h buffer_delta: bounded by max_buffered_deltas).
  void buffer(SpotBook& b, std::int64_t start, std::int64_t end, SessionSink& sink) {
    if (buffer_delta(b, start, end, -1, raw, config.max_buffered_deltas, sink)) request_snapshot(b, sink);
  }

  // parse_level: rest_book.h's, on this book (KuCoin's strings vary: "5", "242.649").
  LevelResult parse_level(SpotBook& b, std::string_view price, std::string_view size, std::int64_t& p,
                          std::int64_t& q) noexcept {
    return connectors::parse_level(b.ob, b.trusted, price, size, p, q, range);
  }

  // apply_change: per-entry rules (docs/venues/kucoin.md "Entries").
  LevelResult apply_change(SpotBook& b, Side side, std::string_view price, std::string_view size, std::int64_t seq,
                           std::int64_t floor_seq);

  // apply_delta classifies one delta against the book's sequence (KuCoin's rule,
  // SequenceTracker::check_overlapping) and applies
  // it; `for_each(floor_seq)` applies its changes and returns the first failure, if any.
  // A gap is returned: the caller decides what it means at that point.
  enum class Outcome { kApplied, kStale, kGap, kBad, kOutOfRange };
  template <typename Changes>
  Outcome apply_delta(SpotBook& b, std::int64_t start, std::int64_t end, const Changes& for_each) {
    const std::int64_t floor_seq = b.seq.last();
    switch (b.seq.check_overlapping(start, end)) {
      case book::SeqCheck::kStale:
        ++b.stale;
        return Outcome::kStale;
      case book::SeqCheck::kGap:
        return Outcome::kGap;
      case book::SeqCheck::kInOrder:
        break;
    }
    switch (for_each(floor_seq)) {
      case LevelResult::kOk:
        break;
      case LevelResult::kBad:
        return Outcome::kBad;
      case LevelResult::kOutOfRange:
        return Outcome::kOutOfRange;
    }
    ++b.ob.counters().updates;
    ++b.ob.counters().checks_passed;
    if (b.ob.is_crossed()) ++b.ob.counters().crossed;
    return Outcome::kApplied;
  }

  // halt_out_of_range: rest_book.h's, the frame counted as malformed.
  void halt_out_of_range(SpotBook& b, bool in_delta, SessionSink& sink) {
    ++malformed;
    connectors::halt_out_of_range(books, b, range, in_delta, sink);
  }

  // on_snapshot: a REST snapshot answered (docs/venues/kucoin.md "Calibration procedure"):
  // read it, load it, play the buffer back; live when it lines up.
  void on_snapshot(SpotBook& b, std::string_view url, int status, std::string_view body, std::int64_t now_ns,
                   SessionSink& sink);
  // What each step of on_snapshot came to.
  enum class Step { kDone, kRetry, kAbandoned };
  // read_snapshot parses the body into `raw` and `sequence`; kRetry (reported) when it is
  // not the documented answer.
  Step read_snapshot(SpotBook& b, int status, std::string_view body, std::int64_t& sequence, SessionSink& sink);
  // load_snapshot replaces the book by `raw` at the finest scales of the snapshot and the
  // buffer, and notes the range the snapshot vouches for (`url` names its depth).
  Step load_snapshot(SpotBook& b, std::string_view url, SessionSink& sink);
  // play_buffer applies the buffered deltas by the continuity rule; kRetry when the
  // snapshot does not line up with them (the deltas from the first that does not are
  // kept); kHalted when the book left calibration (malformed, out of range).
  Step play_buffer(SpotBook& b, SessionSink& sink);

  // bound_depth: keeps each side within max_book_levels. A side cut here is bounded from
  // then on: levels beyond its last kept price are unknown (trusted_depth stops there).
  void bound_depth(SpotBook& b) noexcept;
  void retry_snapshot(SpotBook& b, std::int64_t now_ns, SessionSink& sink);
  // lost_update: an l2update for book `b` (nullptr: none) that could not be read or
  // applied. A live book has lost an update: it leaves live (kMalformed) and recalibrates.
  // A calibrating book keeps calibrating: the continuity check finds the hole unless the
  // snapshot covers it.
  void lost_update(SpotBook* b, SessionSink& sink);
  // on_delta handles an l2update's data; false, and nothing reported, when the data names
  // no symbol (the caller looks for the book in the frame's topic).
  bool on_delta(od::object& data, SessionSink& sink);
  std::int64_t last_now_ns = 0;
};

}  // namespace obr::connectors::kucoin

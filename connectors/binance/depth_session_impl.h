// connectors/binance/depth_session_impl.h — DepthSession's internals, shared by its two
// sources (private to connectors/binance: include it nowhere else and never install it).
//
// depth_session.cpp: the connection (endpoints, SUBSCRIBE batches and their answers, pacing,
// timeouts, rotation), the public API and frame dispatch. depth_bridge.cpp: the books (the
// REST snapshot, the buffered events, the continuity rule, applying events).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "book/sequence_tracker.h"
#include "connectors/binance/depth_session.h"
#include "connectors/protocol/book_registry.h"
#include "connectors/protocol/frame_buffer.h"
#include "connectors/protocol/json_validator.h"
#include "connectors/protocol/rest_book.h"
#include "connectors/protocol/session_basics.h"
#include "connectors/protocol/snapshot_bridge.h"

namespace obr::connectors::binance {
namespace detail {

namespace od = simdjson::ondemand;
using book::BookState;
using book::Side;

// upper_symbol: the book a stream name names ("btcusdt@depth@100ms" -> "BTCUSDT"), for
// a frame whose data cannot be read. Error path only.
inline std::string upper_symbol(std::string_view stream) {
  std::string out(stream.substr(0, stream.find('@')));
  for (char& ch : out) {
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  }
  return out;
}

// DepthBook: a book bridged from its REST snapshot (connectors/protocol/rest_book.h
// BridgedBook: the continuity tracker, the buffered events, the fetch, the trusted range)
// and what only Binance's has: its stream and whether it has been heard from.
struct DepthBook : BridgedBook {
  using BridgedBook::BridgedBook;
  std::string stream;                // "btcusdt@depth@100ms"
  std::int64_t quiet_since_ns = -1;  // subscribed and no event yet: since when (-1: not waiting)
  std::uint64_t stale_snapshots = 0;
};

// A SUBSCRIBE awaiting its answer.
struct PendingAck {
  std::uint64_t id;
  std::int64_t deadline_ns;
  std::vector<BookId> books;
};

}  // namespace detail

using namespace detail;

struct DepthSession::Impl : SessionBasics {
  explicit Impl(const DepthConfig& c);

  DepthConfig config;
  od::parser parser;
  FrameBuffer frame{simdjson::SIMDJSON_PADDING};
  JsonValidator validator;  // answers and other control frames are validated whole first
  BookRegistry<DepthBook> books;
  std::vector<RawChange> raw;  // the current event's changes
  RangeError range;
  std::string out;
  std::int64_t last_now_ns = 0;

  // connection
  bool open = false;
  std::size_t endpoint_index = 0;
  std::int64_t connected_at = 0;
  std::uint64_t next_id = 1;
  std::vector<PendingAck> acks;
  std::deque<std::string> outbox;    // frames waiting for the pace
  std::deque<std::int64_t> sent_at;  // send times within the last second

  bool driving() const { return config.drive_connection; }
  bool usdm() const { return config.market == Market::kUsdm; }
  void set_state(DepthBook& b, BookState to, StateReason why, SessionSink& sink) {
    BookRegistry<DepthBook>::set_state(b, to, why, sink);
  }

  // ---- connection (depth_session.cpp) ------------------------------------------
  const std::string& endpoint() const { return config.endpoints[endpoint_index % config.endpoints.size()]; }
  void send_subscriptions(const std::vector<DepthBook*>& list, std::int64_t now_ns, SessionSink& sink);
  // send queues a frame and sends what the pace allows (Binance's limit on messages a
  // connection may send per second).
  void send(std::string frame, std::int64_t now_ns, SessionSink& sink);
  void flush(std::int64_t now_ns, SessionSink& sink);
  void on_answer(od::object& obj, SessionSink& sink);

  // ---- books (depth_bridge.cpp) ------------------------------------------------
  DepthBook* book_for(std::string_view symbol, SessionSink& sink);
  void request_snapshot(DepthBook& b, SessionSink& sink);
  void on_snapshot(DepthBook& b, std::string_view url, int status, std::string_view body, std::int64_t now_ns,
                   SessionSink& sink);
  // read_snapshot: `raw` and `last_update_id` from the body; false (reported) when it is
  // not the documented answer.
  bool read_snapshot(std::string_view body, std::int64_t& last_update_id, SessionSink& sink);
  void snapshot_refused(DepthBook& b, int status, std::string_view body, std::int64_t now_ns, SessionSink& sink);
  // bridge loads the snapshot in `raw` (lastUpdateId `s`) and plays the buffer over it.
  void bridge(DepthBook& b, std::int64_t s, std::string_view url, std::int64_t now_ns, SessionSink& sink);
  void retry_snapshot(DepthBook& b, std::int64_t now_ns, SessionSink& sink);
  // gap: a check failed on a live book: invalid, then bridged again (or halted by the
  // breaker, when driving); rest_book.h fail_live.
  void gap(DepthBook& b, StateReason why, std::int64_t now_ns, SessionSink& sink) {
    fail_live(books, b, why, driving() ? &config.breaker : nullptr, now_ns, sink);
  }
  void buffer(DepthBook& b, std::int64_t start, std::int64_t end, std::int64_t prev, SessionSink& sink) {
    if (buffer_delta(b, start, end, prev, raw, config.max_buffered_deltas, sink)) request_snapshot(b, sink);
  }
  void halt_out_of_range(DepthBook& b, bool in_event, SessionSink& sink) {
    ++malformed;
    connectors::halt_out_of_range(books, b, range, in_event, sink);
  }

  // What classifying and applying one event came to.
  enum class Outcome { kApplied, kStale, kGap, kBad, kOutOfRange };
  book::SeqCheck check(DepthBook& b, std::int64_t start, std::int64_t end, std::int64_t prev) noexcept {
    return usdm() ? b.seq.check_chained(start, end, prev) : b.seq.check_range(start, end);
  }
  // apply_event: the continuity rule, then the changes (`for_each_change(apply)`).
  template <typename Changes>
  Outcome apply_event(DepthBook& b, std::int64_t start, std::int64_t end, std::int64_t prev, const Changes& changes) {
    switch (check(b, start, end, prev)) {
      case book::SeqCheck::kStale:
        ++b.stale;
        return Outcome::kStale;
      case book::SeqCheck::kGap:
        return Outcome::kGap;
      case book::SeqCheck::kInOrder:
        break;
    }
    LevelResult r = LevelResult::kOk;
    changes([&](const RawChange& c) {
      if (r != LevelResult::kOk) return;
      std::int64_t p = 0, q = 0;
      r = parse_level(b.ob, b.trusted, c.price, c.size, p, q, range);
      if (r != LevelResult::kOk) return;
      b.ob.apply(c.side, p, q);  // quantity 0 deletes
      ++b.ob.counters().levels_applied;
    });
    if (r == LevelResult::kBad) return Outcome::kBad;
    if (r == LevelResult::kOutOfRange) return Outcome::kOutOfRange;
    ++b.ob.counters().updates;
    ++b.ob.counters().checks_passed;
    if (b.ob.is_crossed()) ++b.ob.counters().crossed;
    return Outcome::kApplied;
  }
  // Event: one depthUpdate's fields as read (its changes in `raw`).
  struct Event {
    std::string_view symbol;
    bool has_symbol = false;
    bool complete = false;  // every field read (what read_event returns)
    std::int64_t start = 0, end = 0, prev = -1;
  };
  // read_event reads a depthUpdate's data into `ev` and `raw`; false (ev.complete too) when
  // a field is missing or not as documented. `ordered`: the fields in Binance's order, looked up
  // forward only (safe before validation); else in any order (validated text only).
  bool read_event(od::object& data, bool ordered, Event& ev);
  // on_event applies a depthUpdate read by read_event (`stream`: the combined stream's
  // name, or empty).
  void on_event(const Event& ev, std::string_view stream, std::int64_t now_ns, SessionSink& sink);
  // lost_event: a depthUpdate for `b` (may be null) could not be read or applied.
  void lost_event(DepthBook* b, std::int64_t now_ns, SessionSink& sink);
};

}  // namespace obr::connectors::binance

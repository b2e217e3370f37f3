// connectors/protocol/rest_book.h — a book loaded from a REST snapshot and patched by a diff
// stream of decimal text, the part that KuCoin and Binance share (docs/architecture.md
// "Shared pieces"):
//
//  - read_changes: `[[price, size(, sequence)], …]` of one side into RawChange views;
//  - parse_level: one change's price and size as integers at the book's scales, refining
//    the scales when the venue sends more decimals than seen so far, and telling a number
//    that is not a decimal (malformed) from one past int64 at the book's scale (the book
//    halts: a fresh snapshot would hold the same number);
//  - TrustedRange: after a partial snapshot (the venue's top N levels) the levels beyond
//    the snapshot's price range are kept but not claimed exact; trusted_depth() counts
//    only the levels inside it;
//  - load_snapshot: the snapshot's levels replace the book (never merged), at the finest
//    scales of the snapshot and of the deltas buffered for it;
//  - bound_depth: a side past a memory bound loses its worst levels and becomes bounded;
//  - BridgedBook: the per-book state of such a bridge (sequence tracker, buffer, fetch,
//    trusted range, halts), and what every such venue does with it: restart_bridge,
//    fail_live (a gap on a live book, the circuit breaker), buffer_delta (with its bound),
//    halt_out_of_range.
//
//   RangeError range;
//   std::int64_t p = 0, q = 0;
//   switch (parse_level(book.ob, book.trusted, c.price, c.size, p, q, range)) {
//     case LevelResult::kOk: book.ob.apply(c.side, p, q); break;
//     case LevelResult::kBad: /* malformed */ break;
//     case LevelResult::kOutOfRange: /* halt; range names the value */ break;
//   }
//
// Thread-safety: none; owned by one session.
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "book/decimal.h"
#include "book/order_book.h"
#include "book/sequence_tracker.h"
#include "connectors/protocol/book_registry.h"
#include "connectors/protocol/json_text.h"
#include "connectors/protocol/session.h"
#include "connectors/protocol/snapshot_bridge.h"

namespace obr::connectors {

// parse_int64: the whole of `s` as a decimal integer.
inline bool parse_int64(std::string_view s, std::int64_t& out) noexcept {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

// read_seq reads a sequence that may be a JSON integer or a string of digits.
inline bool read_seq(simdjson::ondemand::value v, std::int64_t& out) noexcept {
  std::int64_t n = 0;
  const auto err = v.get_int64().get(n);
  if (err == simdjson::SUCCESS) {
    out = n;
    return true;
  }
  if (err != simdjson::INCORRECT_TYPE) return false;
  std::string_view s;
  return v.get_string().get(s) == simdjson::SUCCESS && parse_int64(s, out);
}

// read_changes appends one side's `[[price, size(, sequence)], …]` to `out`: views into the
// frame's text. `with_seq`: each entry's third field is its sequence (KuCoin); otherwise
// fields after the second are ignored. False when the shape is not that.
inline bool read_changes(simdjson::ondemand::value v, book::Side side, bool with_seq,
                         std::vector<RawChange>& out) noexcept {
  simdjson::ondemand::array arr;
  if (v.get_array().get(arr)) return false;
  for (auto entry_result : arr) {
    simdjson::ondemand::array entry;
    if (entry_result.get_array().get(entry)) return false;
    RawChange c{side, {}, {}, -1};
    std::size_t n = 0;
    for (auto field_result : entry) {
      simdjson::ondemand::value field;
      if (field_result.get(field)) return false;
      if (n < 2) {
        const std::string_view text = unquote(field.raw_json_token());
        if (text.empty()) return false;
        (n == 0 ? c.price : c.size) = text;
      } else if (n == 2 && with_seq) {
        if (!read_seq(field, c.seq)) return false;
      }
      ++n;
    }
    if (n < (with_seq ? 3u : 2u)) return false;
    out.push_back(c);
  }
  return true;
}

// query_param: the value of `name` in `url`'s query ("" when absent), as written.
inline std::string query_param(std::string_view url, std::string_view name) {
  const std::size_t q = url.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = url.substr(q + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view kv = rest.substr(0, amp);
    if (kv.size() > name.size() && kv.substr(0, name.size()) == name && kv[name.size()] == '=') {
      return std::string(kv.substr(name.size() + 1));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return {};
}

// read_levels appends one side of a parsed snapshot, `[["price","size"], …]`, to `out`:
// views into the DOM (valid until its parser parses again). Fields after the second are
// ignored. False when the shape is not that (numbers must be strings, as the venues send).
inline bool read_levels(simdjson::dom::element side_levels, book::Side side, std::vector<RawChange>& out) {
  simdjson::dom::array arr;
  if (side_levels.get_array().get(arr)) return false;
  for (simdjson::dom::element entry : arr) {
    simdjson::dom::array pair;
    std::string_view price, size;
    if (entry.get_array().get(pair) || pair.size() < 2 || pair.at(0).get_string().get(price) ||
        pair.at(1).get_string().get(size) || price.empty() || size.empty()) {
      return false;
    }
    out.push_back(RawChange{side, price, size, -1});
  }
  return true;
}

// What reading one change's price and size came to.
enum class LevelResult : std::uint8_t {
  kOk = 0,
  kBad,         // not a decimal (or more decimals than any book holds): malformed
  kOutOfRange,  // a decimal past int64 at the book's scale: the book halts
};

// RangeError: the value behind the last LevelResult::kOutOfRange, for the frame_error
// detail (out_of_range_detail).
struct RangeError {
  std::string_view what;    // "price" or "size"
  std::string_view lexeme;  // as the venue wrote it, or a book level formatted into `text`
  int scale = 0;            // the scale it does not fit at
  char text[book::kMaxDecimalChars] = {};

  LevelResult set(std::string_view value_what, std::string_view value, int at_scale) noexcept {
    what = value_what;
    lexeme = value;
    scale = at_scale;
    return LevelResult::kOutOfRange;
  }
};

// TrustedRange: the prices a partial snapshot vouches for. A side is `bounded` when the
// snapshot (or the depth bound) may have left levels out beyond its last price: levels
// past the floor (bids) or ceiling (asks) are kept but not claimed exact.
struct TrustedRange {
  bool bid_bounded = false, ask_bounded = false;
  std::int64_t bid_floor = 0, ask_ceiling = 0;

  void clear() noexcept { *this = TrustedRange{}; }
  // rescaled: the prices were multiplied by `factor` (a finer price scale).
  void rescaled(std::int64_t factor) noexcept {
    bid_floor = saturating_mul(bid_floor, factor);
    ask_ceiling = saturating_mul(ask_ceiling, factor);
  }
  // after_snapshot: a snapshot asked for at most `limit` levels a side (0: all of them)
  // gave `nbids` and `nasks`; a side that came back full says nothing beyond its last level.
  void after_snapshot(const book::OrderBook& ob, std::size_t limit, std::size_t nbids, std::size_t nasks) noexcept {
    bid_bounded = limit > 0 && nbids >= limit && !ob.bids().empty();
    ask_bounded = limit > 0 && nasks >= limit && !ob.asks().empty();
    if (bid_bounded) bid_floor = ob.bids().at(ob.bids().size() - 1).price;
    if (ask_bounded) ask_ceiling = ob.asks().at(ob.asks().size() - 1).price;
  }
  // depth: levels per side (the smaller side) inside the range.
  std::size_t depth(const book::OrderBook& ob) const noexcept {
    std::size_t bids = ob.bids().size(), asks = ob.asks().size();
    if (bid_bounded) {
      bids = 0;
      while (bids < ob.bids().size() && ob.bids().at(bids).price >= bid_floor) ++bids;
    }
    if (ask_bounded) {
      asks = 0;
      while (asks < ob.asks().size() && ob.asks().at(asks).price <= ask_ceiling) ++asks;
    }
    return std::min(bids, asks);
  }
};

// rescale_out_of_range: `range` set to the book level that a rescale of `ob` to (ps, qs)
// would push past int64 (its largest price or size); kBad when none would (rescale
// refused for another reason). Error path only.
inline LevelResult rescale_out_of_range(const book::OrderBook& ob, int ps, int qs, RangeError& range) noexcept {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  const std::int64_t pm = book::pow10(ps - ob.price_scale()), qm = book::pow10(qs - ob.qty_scale());
  std::int64_t price = 0, qty = 0;  // the largest of each in the book
  if (!ob.bids().empty()) price = ob.bids().at(0).price;
  if (!ob.asks().empty()) price = std::max(price, ob.asks().at(ob.asks().size() - 1).price);
  for (std::size_t i = 0; i < ob.bids().size(); ++i) qty = std::max(qty, ob.bids().at(i).qty);
  for (std::size_t i = 0; i < ob.asks().size(); ++i) qty = std::max(qty, ob.asks().at(i).qty);
  const bool by_price = price > kMax / pm;
  if (!by_price && qty <= kMax / qm) return LevelResult::kBad;
  const std::size_t n =
      book::format_decimal(by_price ? price : qty, by_price ? ob.price_scale() : ob.qty_scale(), range.text);
  return range.set(by_price ? "price" : "size", std::string_view(range.text, n), by_price ? ps : qs);
}

// parse_level: `price` and `size` as integers at the book's scales (p, q), refining the
// scales (and `trusted`) when the venue sends more decimals than seen so far (KuCoin's
// strings vary: "5", "242.649"). kOutOfRange, with `range` set, when a value does not fit
// int64 at the scale, or a level already in the book would not at the finer scale.
inline LevelResult parse_level(book::OrderBook& ob, TrustedRange& trusted, std::string_view price,
                               std::string_view size, std::int64_t& p, std::int64_t& q, RangeError& range) noexcept {
  book::DecimalResult pr = book::parse_decimal(price, ob.price_scale());
  book::DecimalResult qr = book::parse_decimal(size, ob.qty_scale());
  if (pr.error == book::DecimalError::kTooManyDecimals || qr.error == book::DecimalError::kTooManyDecimals) {
    const int old_ps = ob.price_scale();
    const int ps = std::max(old_ps, book::decimal_places(price));
    const int qs = std::max(ob.qty_scale(), book::decimal_places(size));
    if (!ob.rescale(ps, qs)) {
      // More decimals than any book holds is malformed; otherwise a level in the book does
      // not fit int64 at the finer scale.
      if (ps > book::kMaxScale || qs > book::kMaxScale) return LevelResult::kBad;
      return rescale_out_of_range(ob, ps, qs, range);
    }
    trusted.rescaled(book::pow10(ps - old_ps));
    pr = book::parse_decimal(price, ob.price_scale());
    qr = book::parse_decimal(size, ob.qty_scale());
  }
  // Not a decimal at all wins over a decimal too large: the frame is malformed.
  constexpr auto kOverflow = book::DecimalError::kOverflow;
  if ((!pr.ok() && pr.error != kOverflow) || (!qr.ok() && qr.error != kOverflow)) return LevelResult::kBad;
  if (pr.error == kOverflow) return range.set("price", price, ob.price_scale());
  if (qr.error == kOverflow) return range.set("size", size, ob.qty_scale());
  p = pr.value;
  q = qr.value;
  return LevelResult::kOk;
}

// load_snapshot replaces the book by `levels` (a snapshot, never merged) at the finest
// scales of the snapshot and of `buffered` (the deltas it will be bridged with), and sets
// `trusted` for a snapshot of at most `limit` levels a side (0: full depth). kOutOfRange
// (range set) or kBad (not a decimal) leave the book empty.
inline LevelResult load_snapshot(book::OrderBook& ob, TrustedRange& trusted, const std::vector<RawChange>& levels,
                                 const DeltaBuffer& buffered, std::size_t limit, RangeError& range) {
  // Scales: the finest of the buffered deltas and the first level; a level with more
  // decimals than that (rare: venues write a symbol's levels at one precision) makes a
  // second pass at the finest of all.
  int ps = 0, qs = 0;
  auto widen = [&](const RawChange& c) {
    ps = std::max(ps, book::decimal_places(c.price));
    qs = std::max(qs, book::decimal_places(c.size));
  };
  for (std::uint32_t k = 0; k < buffered.change_count(); ++k) widen(buffered.change(k));
  if (!levels.empty()) widen(levels.front());
  constexpr auto kOverflow = book::DecimalError::kOverflow;
  constexpr auto kTooMany = book::DecimalError::kTooManyDecimals;
  for (int pass = 0; pass < 2; ++pass) {
    ob.clear();
    ob.set_scales(std::min(ps, book::kMaxScale), std::min(qs, book::kMaxScale));
    ob.snapshot_begin();
    std::size_t nbids = 0, nasks = 0;
    bool again = false;
    for (const RawChange& c : levels) {
      const book::DecimalResult p = book::parse_decimal(c.price, ob.price_scale());
      const book::DecimalResult q = book::parse_decimal(c.size, ob.qty_scale());
      if (p.ok() && q.ok()) {
        ob.snapshot_add(c.side, book::Level{p.value, q.value});
        (c.side == book::Side::kBid ? nbids : nasks) += 1;
        continue;
      }
      ob.snapshot_end();
      ob.clear();
      if (pass == 0 && (p.error == kTooMany || q.error == kTooMany)) {
        for (const RawChange& d : levels) widen(d);
        again = true;
        break;
      }
      if ((p.ok() || p.error == kOverflow) && (q.ok() || q.error == kOverflow)) {
        return p.error == kOverflow ? range.set("price", c.price, ob.price_scale())
                                    : range.set("size", c.size, ob.qty_scale());
      }
      return LevelResult::kBad;
    }
    if (again) continue;
    ob.snapshot_end();
    ++ob.counters().snapshots;
    trusted.after_snapshot(ob, limit, nbids, nasks);
    return LevelResult::kOk;
  }
  return LevelResult::kBad;  // more decimals than any book holds
}

// bound_depth keeps each side within `cap` levels (0: unlimited). A side cut here is
// bounded from then on: levels beyond its last kept price are unknown.
inline void bound_depth(book::OrderBook& ob, TrustedRange& trusted, std::size_t cap) noexcept {
  if (cap == 0 || (ob.bids().size() <= cap && ob.asks().size() <= cap)) return;
  const bool cut_bids = ob.bids().size() > cap, cut_asks = ob.asks().size() > cap;
  ob.set_depth_limit(cap);
  ob.truncate();
  ob.set_depth_limit(0);
  if (cut_bids) {
    const std::int64_t last = ob.bids().at(cap - 1).price;
    trusted.bid_floor = trusted.bid_bounded ? std::max(trusted.bid_floor, last) : last;
    trusted.bid_bounded = true;
  }
  if (cut_asks) {
    const std::int64_t last = ob.asks().at(cap - 1).price;
    trusted.ask_ceiling = trusted.ask_bounded ? std::min(trusted.ask_ceiling, last) : last;
    trusted.ask_bounded = true;
  }
}

// BridgedBook: one book bridged from a REST snapshot to a diff stream: the shared per-book
// part (book_registry.h) and the bridge's own state. A venue's book derives from it and adds
// what only it has.
struct BridgedBook : TrackedBook {
  BridgedBook(BookId book_id, std::string sym)
      : TrackedBook(book_id, std::move(sym),
                    book::BookConfig{.price_scale = 0, .qty_scale = 0, .depth_limit = 0, .reserve_levels = 0}) {}
  book::SequenceTracker seq;  // the venue's continuity rule (one of its check_*)
  DeltaBuffer buffer;         // deltas waiting for the snapshot
  SnapshotFetch fetch;        // the snapshot in flight; retry_at_ns: halted until then
  TrustedRange trusted;       // what the last snapshot vouches for
  bool refused = false;       // the venue refused the book: halted, never fetched again
  // A price or size past the book's range halted it (StateReason::kOutOfRange): its deltas
  // and recorded snapshots are ignored and no snapshot is requested until the connection is
  // replaced (the next connection bridges it once more).
  bool out_of_range = false;
  std::uint64_t stale = 0;      // deltas already covered by the book (skipped)
  std::uint64_t overflows = 0;  // buffer overflows
};

// restart_bridge: the book is no longer trusted: buffer from the next delta and fetch a new
// snapshot (requested once a delta is buffered); `resyncing` with `why`.
inline void restart_bridge(BridgedBook& b, StateReason why, SessionSink& sink) {
  ++b.ob.counters().resyncs_requested;
  b.buffer.clear();
  b.seq.clear();
  b.fetch.restart();
  BookRegistry<BridgedBook>::set_state(b, book::BookState::kResyncing, why, sink);
}

// fail_live: a check failed on a live book (a gap, a delta that could not be applied). It
// counts a failed check and becomes `invalid` with `why`; then, when `breaker` is given and
// trips (BookRegistry::fail), it halts with nothing buffered or fetched until its retry (true);
// otherwise it restarts the bridge (false).
template <class Book>
bool fail_live(BookRegistry<Book>& books, Book& b, StateReason why, const BreakerConfig* breaker, std::int64_t now_ns,
               SessionSink& sink) {
  ++b.ob.counters().checks_failed;
  if (breaker != nullptr && books.fail(b, why, *breaker, now_ns, sink)) {
    b.buffer.clear();
    b.seq.clear();
    b.fetch.stop();
    return true;
  }
  BookRegistry<Book>::set_state(b, book::BookState::kInvalid, why, sink);
  restart_bridge(b, why, sink);
  return false;
}

// buffer_delta keeps one delta (`changes`, [start, end], `prev`) for the snapshot. A buffer
// past `max_deltas` (or DeltaBuffer::kMaxBytes) starts over, reported: the snapshot in
// flight can no longer line up. True when the snapshot should be requested now.
inline bool buffer_delta(BridgedBook& b, std::int64_t start, std::int64_t end, std::int64_t prev,
                         std::span<const RawChange> changes, std::size_t max_deltas, SessionSink& sink) {
  if (!b.buffer.fits(changes, max_deltas)) {
    ++b.overflows;
    ++b.ob.counters().resyncs_requested;
    b.buffer.clear();
    b.fetch.restart(true);
    BookRegistry<BridgedBook>::set_state(b, book::BookState::kResyncing, StateReason::kBufferOverflow, sink);
    sink.venue_error(b.symbol, "snapshot bridge buffer overflow: restarted");
  }
  b.buffer.push(start, end, prev, changes);
  return b.fetch.due();
}

// refuse_book: the venue refused the book (its subscription, or its symbol): halted with
// the venue's `message` (reported first, naming the book), nothing buffered or fetched, no
// retry, and never asked for again on this session (`refused`).
template <class Book>
void refuse_book(BookRegistry<Book>& books, Book& b, std::string_view message, SessionSink& sink) {
  b.refused = true;
  b.buffer.clear();
  b.fetch.stop();
  books.cancel_retry(b);
  sink.venue_error(b.symbol, message);
  BookRegistry<Book>::set_state(b, book::BookState::kHalted, StateReason::kSubscribeRefused, sink);
}

// halt_out_of_range reports `range` (FrameError::kOutOfRange, naming the value and the
// limit) and halts the book (StateReason::kOutOfRange) without fetching again: a fresh
// snapshot would hold the same number. `in_delta`: a delta could not be applied, counted as
// a failed check; a snapshot counts none. The caller counts the frame as malformed.
template <class Book>
void halt_out_of_range(BookRegistry<Book>& books, Book& b, const RangeError& range, bool in_delta, SessionSink& sink) {
  char detail[192];
  sink.frame_error(FrameError::kOutOfRange, out_of_range_detail(detail, range.what, range.lexeme, range.scale));
  if (in_delta) ++b.ob.counters().checks_failed;
  b.buffer.clear();  // after the detail: the lexeme may be the buffer's text
  b.seq.clear();
  b.fetch.stop();
  b.out_of_range = true;
  books.cancel_retry(b);
  if (b.ob.state() == book::BookState::kLive) {
    BookRegistry<Book>::set_state(b, book::BookState::kInvalid, StateReason::kOutOfRange, sink);
  }
  BookRegistry<Book>::set_state(b, book::BookState::kHalted, StateReason::kOutOfRange, sink);
}

}  // namespace obr::connectors

#include "connectors/kraken/book_set.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace obr::connectors::kraken::detail {
namespace {

using book::BookState;

// One call per side with the side as a constant, so apply()'s side branch folds away.
// RawLevel texts point into the session's padded frame buffer (simdjson's padding), so the
// padded parser may read past them.
template <typename Use>
LevelsResult for_each_level(const book::OrderBook& ob, book::Side side, const std::vector<RawLevel>& raws, Use&& use) {
  for (const RawLevel& raw : raws) {
    const book::DecimalResult p = book::parse_decimal_padded(raw.price, ob.price_scale());
    const book::DecimalResult q = book::parse_decimal_padded(raw.qty, ob.qty_scale());
    if (!p.ok()) [[unlikely]]
      return LevelsResult{p.error, raw.price, true, ob.price_scale()};
    if (!q.ok()) [[unlikely]]
      return LevelsResult{q.error, raw.qty, false, ob.qty_scale()};
    use(side, book::Level{p.value, q.value});
  }
  return LevelsResult{};
}

// lexeme_scales: the most decimals any price and any qty lexeme carries (Kraken prints
// every number at the instrument's precision); -1 for a field no level carries.
std::pair<int, int> lexeme_scales(const std::vector<RawLevel>& bids, const std::vector<RawLevel>& asks) {
  int ps = -1, qs = -1;
  for (const auto* side : {&bids, &asks}) {
    for (const RawLevel& l : *side) {
      ps = std::max(ps, book::decimal_places(l.price));
      qs = std::max(qs, book::decimal_places(l.qty));
    }
  }
  return {std::min(ps, book::kMaxScale), std::min(qs, book::kMaxScale)};
}

}  // namespace

void BookSet::subscribe_books(const std::vector<std::string>& symbols, SessionSink& sink) {
  std::vector<const KrakenBook*> list;
  for (const std::string& s : symbols) {
    KrakenBook& b = track_for_subscribe(s);
    b.subscribe_pending = true;
    list.push_back(&b);
  }
  if (!list.empty() && (connected_ || !conn_config_.drive_connection)) send_subscribe(list, sink);
}

void BookSet::start(std::int64_t now_ns, SessionSink& sink) {
  last_ping_ns_ = now_ns;
  if (!conn_config_.drive_connection || conn_config_.endpoints.empty()) return;
  opened_since_attempt_ = false;
  sink.open_connection(conn_config_.endpoints[endpoint_index_ % conn_config_.endpoints.size()]);
}

void BookSet::connected(std::int64_t now_ns, SessionSink& sink) {
  connected_ = true;
  opened_since_attempt_ = true;
  last_ping_ns_ = now_ns;
  resubscribe_all(sink);
}

void BookSet::disconnected(std::int64_t now_ns, SessionSink& sink) {
  (void)now_ns;
  connected_ = false;
  stale_all(false, StateReason::kDisconnected, sink);
  if (!conn_config_.drive_connection || conn_config_.endpoints.empty()) return;
  if (!opened_since_attempt_) ++endpoint_index_;  // never opened: try the next endpoint
  opened_since_attempt_ = false;
  sink.open_connection(conn_config_.endpoints[endpoint_index_ % conn_config_.endpoints.size()]);
}

void BookSet::tick(std::int64_t now_ns, SessionSink& sink) {
  on_tick(now_ns, sink);
  if (conn_config_.drive_connection && connected_ && now_ns - last_ping_ns_ >= conn_config_.ping_interval_ns) {
    last_ping_ns_ = now_ns;
    send_ping(sink);
  }
}

void BookSet::resubscribe_all(SessionSink& sink) {
  std::vector<const KrakenBook*> list;
  for (const auto& b : books_.all()) {
    b->subscribe_pending = true;
    set_state(*b, BookState::kSubscribing, StateReason::kResubscribing, sink);
    list.push_back(b.get());
  }
  if (!list.empty()) send_subscribe(list, sink);
}

void BookSet::check(KrakenBook& b, std::uint64_t wire, bool snapshot, std::int64_t now_ns, SessionSink& sink) {
  if (b.crc.get(b.ob) == wire) {
    ++b.ob.counters().checks_passed;
    b.breaker.passed();
    if (snapshot) set_state(b, BookState::kLive, StateReason::kSnapshotValid, sink);
    return;
  }
  ++b.ob.counters().checks_failed;
  fail(b, StateReason::kChecksumMismatch, now_ns, sink);
}

void BookSet::resubscribe(KrakenBook& b, SessionSink& sink) {
  ++b.ob.counters().resyncs_requested;
  set_state(b, BookState::kResyncing, StateReason::kResubscribing, sink);
  send_resubscribe(b, sink);
  b.subscribe_pending = true;
}

void BookSet::fail(KrakenBook& b, StateReason why, std::int64_t now_ns, SessionSink& sink) {
  b.crc.invalidate();
  if (!books_.fail(b, why, breaker_, now_ns, sink)) resubscribe(b, sink);
}

void BookSet::on_tick(std::int64_t now_ns, SessionSink& sink) {
  books_.run_due_retries(now_ns, [&](KrakenBook& b) { resubscribe(b, sink); });
}

void BookSet::resubscribe_stale(SessionSink& sink) {
  for (const auto& b : books_.all()) {
    if (b->ob.state() == BookState::kStale && !b->subscribe_pending) resubscribe(*b, sink);
  }
}

LevelsResult BookSet::load_snapshot(KrakenBook& b, const std::vector<RawLevel>& bids,
                                    const std::vector<RawLevel>& asks) {
  book::OrderBook& ob = b.ob;
  if (!b.info.precision_from_instrument) {
    // The scales come from this snapshot's lexemes; an empty snapshot has none, and the
    // book waits for the first levels that carry them (apply_update).
    const auto [ps, qs] = lexeme_scales(bids, asks);
    ob.clear();
    ob.set_scales(std::max(ps, 0), std::max(qs, 0));
    b.scales_known = ps >= 0 && qs >= 0;
  } else {
    b.scales_known = true;
  }
  ob.snapshot_begin();
  auto add = [&ob](book::Side side, book::Level l) { ob.snapshot_add(side, l); };
  LevelsResult r = for_each_level(ob, book::Side::kBid, bids, add);
  if (r.ok()) r = for_each_level(ob, book::Side::kAsk, asks, add);
  ob.snapshot_end();
  if (r.ok()) ++ob.counters().snapshots;
  return r;
}

LevelsResult BookSet::apply_update(KrakenBook& b, const std::vector<RawLevel>& bids,
                                   const std::vector<RawLevel>& asks) {
  book::OrderBook& ob = b.ob;
  if (!b.scales_known) [[unlikely]] {
    // After an empty snapshot the book is empty: its scales are set by the first levels.
    const auto [ps, qs] = lexeme_scales(bids, asks);
    if (ps >= 0 && qs >= 0 && ob.bids().empty() && ob.asks().empty() && ob.set_scales(ps, qs)) {
      b.scales_known = true;
      b.crc.invalidate();
    }
  }
  auto apply = [&ob](book::Side side, book::Level l) { ob.apply(side, l.price, l.qty); };
  LevelsResult r = for_each_level(ob, book::Side::kBid, bids, apply);
  if (r.ok()) r = for_each_level(ob, book::Side::kAsk, asks, apply);
  if (!r.ok()) return r;
  ob.truncate();
  ++ob.counters().updates;
  ob.counters().levels_applied += bids.size() + asks.size();
  return r;
}

BookSet::Rejection BookSet::reject_levels(KrakenBook& b, const LevelsResult& r, bool snapshot, std::int64_t now_ns,
                                          char (&buf)[192], SessionSink& sink) {
  const std::string_view what = r.is_price ? "price" : "qty";
  if (r.error == book::DecimalError::kOverflow) {
    // Past int64 at the book's scale: every snapshot of this instrument would fail the
    // same way. The book halts with the reason; a reconnect subscribes it again.
    b.crc.invalidate();
    books_.cancel_retry(b);
    b.subscribe_pending = false;
    set_state(b, BookState::kHalted, StateReason::kOutOfRange, sink);
    return {FrameError::kOutOfRange, out_of_range_detail(buf, what, r.lexeme, r.scale)};
  }
  fail(b, StateReason::kMalformed, now_ns, sink);
  const int n = std::snprintf(buf, sizeof buf, "%s %.*s '%.*s' is not a decimal at the book's %d decimals (%.*s)",
                              snapshot ? "snapshot" : "update", static_cast<int>(what.size()), what.data(),
                              static_cast<int>(std::min<std::size_t>(r.lexeme.size(), 64)), r.lexeme.data(), r.scale,
                              static_cast<int>(book::to_string(r.error).size()), book::to_string(r.error).data());
  return {FrameError::kBadNumber,
          std::string_view(buf, n <= 0 ? 0 : std::min(static_cast<std::size_t>(n), sizeof buf - 1))};
}

void BookSet::on_venue_status(std::string_view status, SessionSink& sink) {
  sink.venue_status(status);
  if (status == "maintenance") {
    in_maintenance_ = true;
    stale_all(true, StateReason::kMaintenance, sink);
  } else if (in_maintenance_) {  // out of maintenance: the stale books need fresh snapshots
    in_maintenance_ = false;
    resubscribe_stale(sink);
  }
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace obr::connectors::kraken::detail

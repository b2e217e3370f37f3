// connectors/binance/depth_bridge.cpp — the books' side of the Binance session (see
// depth_session_impl.h): the REST snapshot and the events buffered while it is fetched,
// the bridge and the continuity rule (docs/venues/binance.md "Bridging", "Continuity"),
// retries, the circuit breaker, numbers past the book's range, and on_event, the live
// update path.
#include "connectors/binance/depth_session_impl.h"

namespace obr::connectors::binance {

namespace {

// Binance's REST error code for a symbol it does not list ("-1121 Invalid symbol.").
constexpr std::int64_t kInvalidSymbol = -1121;

bool is_depth_url(std::string_view url) noexcept {
  return url.find("/api/v3/depth") != std::string_view::npos || url.find("/fapi/v1/depth") != std::string_view::npos;
}

}  // namespace

// ---- snapshots --------------------------------------------------------------------

void DepthSession::Impl::request_snapshot(DepthBook& b, SessionSink& sink) {
  HttpRequest r;
  r.id = next_id++;
  r.method = "GET";
  r.url = config.rest_base + (usdm() ? "/fapi/v1/depth?symbol=" : "/api/v3/depth?symbol=") + b.symbol +
          "&limit=" + std::to_string(config.snapshot_limit);
  r.weight = snapshot_weight(config.market, config.snapshot_limit);
  b.fetch.sent(r.id);
  sink.http_request(r);
}

void DepthSession::Impl::retry_snapshot(DepthBook& b, std::int64_t now_ns, SessionSink& sink) {
  if (!driving()) {
    // A capture: whatever snapshot the recording holds next is tried; there is no request
    // to hold back, so no attempt is counted and the book never halts for it.
    set_state(b, BookState::kResyncing, StateReason::kSnapshotRetry, sink);
    b.fetch.wanted = true;
    return;
  }
  if (b.fetch.failed(config.max_snapshot_attempts, config.halt_backoff_ns, now_ns)) {
    set_state(b, BookState::kHalted, StateReason::kCircuitOpen, sink);
    return;
  }
  set_state(b, BookState::kResyncing, StateReason::kSnapshotRetry, sink);
  request_snapshot(b, sink);
}

bool DepthSession::Impl::read_snapshot(std::string_view body, std::int64_t& last_update_id, SessionSink& sink) {
  // One DOM parse validates the body and reads it (connectors/protocol/json_validator.h).
  frame.load(body);
  simdjson::dom::element root, id, bids, asks;
  raw.clear();
  if (!validator.parse(frame, root) || !root.is_object()) {
    bad(sink, FrameError::kNotJson, "depth snapshot is not a JSON object");
    return false;
  }
  if (root["lastUpdateId"].get(id) || id.get_int64().get(last_update_id) || root["bids"].get(bids) ||
      !read_levels(bids, Side::kBid, raw) || root["asks"].get(asks) || !read_levels(asks, Side::kAsk, raw)) {
    bad(sink, FrameError::kUnexpectedShape, "depth snapshot without lastUpdateId/bids/asks");
    return false;
  }
  return true;
}

void DepthSession::Impl::snapshot_refused(DepthBook& b, int status, std::string_view body, std::int64_t now_ns,
                                          SessionSink& sink) {
  // Binance's errors: {"code":-1121,"msg":"Invalid symbol."}, read in one DOM parse.
  std::int64_t code = 0;
  std::string message = "depth snapshot: HTTP " + std::to_string(status);
  frame.load(body);
  simdjson::dom::element root;
  std::string_view msg;
  if (validator.parse(frame, root)) {
    if (root["code"].get_int64().get(code)) code = 0;
    if (!root["msg"].get_string().get(msg)) message += ": " + std::string(msg);
  }
  if (status == 400 && code == kInvalidSymbol) return refuse_book(books, b, message, sink);  // never bridged
  sink.venue_error(b.symbol, message);
  if (status == 429 || status == 418) {
    // Throttled: the driver holds every REST request until Retry-After has passed (a 418
    // is an IP ban); ask again, queued behind it. Not the snapshot's failure.
    b.fetch.restart(true);
    if (driving()) request_snapshot(b, sink);
    return;
  }
  retry_snapshot(b, now_ns, sink);
}

void DepthSession::Impl::on_snapshot(DepthBook& b, std::string_view url, int status, std::string_view body,
                                     std::int64_t now_ns, SessionSink& sink) {
  b.fetch.request = 0;
  if (status != 200) return snapshot_refused(b, status, body, now_ns, sink);
  std::int64_t s = 0;
  if (!read_snapshot(body, s, sink)) return retry_snapshot(b, now_ns, sink);
  if (b.ob.state() == BookState::kLive) {
    // A capture's snapshot for a live book: a newer one replaces it, an older one is ignored.
    if (s <= b.seq.last()) {
      ++b.stale_snapshots;
      return;
    }
    b.buffer.clear();
  }
  bridge(b, s, url, now_ns, sink);
}

void DepthSession::Impl::bridge(DepthBook& b, std::int64_t s, std::string_view url, std::int64_t now_ns,
                                SessionSink& sink) {
  std::int64_t limit = 100;  // Binance's default when the request names none
  const std::string limit_text = query_param(url, "limit");
  if (!limit_text.empty() && (!parse_int64(limit_text, limit) || limit < 0)) limit = 0;
  switch (load_snapshot(b.ob, b.trusted, raw, b.buffer, static_cast<std::size_t>(limit), range)) {
    case LevelResult::kOk:
      break;
    case LevelResult::kOutOfRange:
      return halt_out_of_range(b, false, sink);
    case LevelResult::kBad:
      bad(sink, FrameError::kBadNumber, "depth snapshot price/quantity is not a decimal");
      return retry_snapshot(b, now_ns, sink);
  }
  b.seq.reset(s);
  for (std::size_t used = 0; used < b.buffer.size(); ++used) {
    const DeltaBuffer::Delta& d = b.buffer.delta(used);
    const Outcome o = apply_event(b, d.start, d.end, d.prev, [&](const auto& apply) {
      for (std::uint32_t k = d.first; k < d.first + d.count; ++k) apply(b.buffer.change(k));
    });
    switch (o) {
      case Outcome::kApplied:
      case Outcome::kStale:
        break;
      case Outcome::kOutOfRange:
        return halt_out_of_range(b, true, sink);
      case Outcome::kBad:
        bad(sink, FrameError::kBadNumber, "buffered event price/quantity is not a decimal");
        fail_live(books, b, StateReason::kMalformed, nullptr, now_ns, sink);  // bridged again, no breaker
        return;
      case Outcome::kGap: {
        // Before the bridge: the snapshot is older than the first kept event. After it: the
        // buffer itself has a hole. Either way keep the events from here and fetch again.
        const bool bridged = b.seq.bridged();
        if (bridged) ++b.ob.counters().checks_failed;
        b.buffer.drop_front(used);
        b.ob.clear();
        b.seq.clear();
        sink.venue_error(b.symbol, bridged ? "gap in the buffered events: fetching a newer snapshot"
                                           : "snapshot older than the buffered events: fetching a newer one");
        return retry_snapshot(b, now_ns, sink);
      }
    }
  }
  bound_depth(b.ob, b.trusted, config.max_book_levels);
  b.buffer.clear();
  b.fetch.succeeded();
  b.quiet_since_ns = -1;
  set_state(b, BookState::kLive, StateReason::kSnapshotValid, sink);
  sink.book_updated(b.id, b.symbol, b.ob, true);
}

// ---- events -----------------------------------------------------------------------

DepthBook* DepthSession::Impl::book_for(std::string_view symbol, SessionSink& sink) {
  if (DepthBook* b = books.find(symbol)) return b;
  if (!config.track_any_symbol) {
    bad(sink, FrameError::kUnknownSymbol, unknown_symbol_detail(symbol));
    return nullptr;
  }
  DepthBook& b = books.track(symbol);
  b.fetch.wanted = true;
  set_state(b, BookState::kAwaitingSnapshot, StateReason::kSubscribed, sink);
  return &b;
}

void DepthSession::Impl::lost_event(DepthBook* b, std::int64_t now_ns, SessionSink& sink) {
  if (b != nullptr && b->ob.state() == BookState::kLive) gap(*b, StateReason::kMalformed, now_ns, sink);
}

bool DepthSession::Impl::read_event(od::object& data, bool ordered, Event& ev) {
  // Ordered: each field found after the previous one (find_field), which never rewinds and
  // so is safe on text not validated yet; unordered only on validated text: a rewinding
  // lookup assumes the part it skipped was well formed (found by fuzzing: an assertion
  // inside simdjson, undefined behaviour without it).
  const auto field = [&](std::string_view key, od::value& v) {
    return (ordered ? data.find_field(key).get(v) : data.find_field_unordered(key).get(v)) == simdjson::SUCCESS;
  };
  od::value v;
  raw.clear();
  ev = Event{};
  if (!field("s", v) || v.get_string().get(ev.symbol)) return false;
  ev.has_symbol = true;
  bool ok = field("U", v) && read_seq(v, ev.start) && field("u", v) && read_seq(v, ev.end) && ev.start <= ev.end;
  if (ok && usdm()) ok = field("pu", v) && read_seq(v, ev.prev);
  ev.complete = ok && field("b", v) && read_changes(v, Side::kBid, false, raw) && field("a", v) &&
                read_changes(v, Side::kAsk, false, raw);
  return ev.complete;
}

void DepthSession::Impl::on_event(const Event& ev, std::string_view stream, std::int64_t now_ns, SessionSink& sink) {
  if (!ev.has_symbol) {
    if (!stream.empty()) lost_event(books.find(upper_symbol(stream)), now_ns, sink);
    return bad(sink, FrameError::kUnexpectedShape, "depthUpdate without s (symbol)");
  }
  DepthBook* b = book_for(ev.symbol, sink);
  if (b == nullptr) return;
  if (!ev.complete) {
    // An event we cannot read is an event lost: a live book can no longer be trusted.
    lost_event(b, now_ns, sink);
    return bad(sink, FrameError::kUnexpectedShape,
               usdm() ? "depthUpdate without U/u/pu/b/a" : "depthUpdate without U/u/b/a (or U > u)");
  }
  const std::int64_t start = ev.start, end = ev.end, prev = ev.prev;
  if (b->refused || b->out_of_range) return;  // halted until the venue or a new connection says otherwise
  if (b->breaker.retry_pending) return;       // halted by the breaker until its retry
  b->quiet_since_ns = -1;
  if (b->ob.state() != BookState::kLive) return buffer(*b, start, end, prev, sink);
  const std::uint64_t top_before = b->ob.top_version();
  const Outcome o = apply_event(*b, start, end, prev, [&](const auto& apply) {
    for (const RawChange& c : raw) apply(c);
  });
  switch (o) {
    case Outcome::kApplied:
      b->breaker.passed();
      bound_depth(b->ob, b->trusted, config.max_book_levels);
      sink.book_updated(b->id, b->symbol, b->ob, b->ob.top_version() != top_before);
      break;
    case Outcome::kStale:
      break;  // already in the book
    case Outcome::kGap:
      gap(*b, StateReason::kSequenceGap, now_ns, sink);
      if (b->ob.state() != BookState::kHalted) buffer(*b, start, end, prev, sink);  // the new bridge's first
      break;
    case Outcome::kBad:  // possibly applied in part: lost
      lost_event(b, now_ns, sink);
      bad(sink, FrameError::kBadNumber, "depthUpdate price/quantity is not a decimal");
      break;
    case Outcome::kOutOfRange:
      halt_out_of_range(*b, true, sink);
      break;
  }
}

// ---- the public entry for REST answers ---------------------------------------------

void DepthSession::on_http_response(std::uint64_t id, std::string_view url, int status, std::string_view body,
                                    std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (!is_depth_url(url)) return;  // not ours
  const std::string symbol = query_param(url, "symbol");
  DepthBook* b = im.books.find(symbol);
  if (b == nullptr) {
    if (!im.config.track_any_symbol || symbol.empty()) return;
    b = &im.books.track(symbol);
    b->fetch.wanted = true;
  }
  if (b->refused || b->out_of_range) return;                 // halted: nothing was asked for
  if (!b->fetch.answers(id)) return;                         // superseded (an overflow, a new connection)
  if (id != 0 && b->ob.state() == BookState::kLive) return;  // a late answer for a bridged book
  im.on_snapshot(*b, url, status, body, now_ns, sink);
}

}  // namespace obr::connectors::binance

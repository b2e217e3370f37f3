// connectors/kucoin/spot_calibration.cpp — the books' side of the KuCoin session (see
// spot_session_impl.h): the REST snapshot and the deltas buffered while it is fetched
// (docs/venues/kucoin.md "Calibration procedure"), applying deltas by sequence, the depth
// bound, retries, numbers past the book's range, and on_delta, the live update path.
#include "connectors/kucoin/spot_session_impl.h"

namespace obr::connectors::kucoin {

// ---- calibration ------------------------------------------------------------------

void SpotSession::Impl::request_snapshot(SpotBook& b, SessionSink& sink) {
  HttpRequest r;
  r.id = next_id++;
  r.method = "GET";
  b.fetch.sent(r.id);
  if (!config.credentials.empty()) {
    const std::string endpoint = "/api/v3/market/orderbook/level2?symbol=" + b.symbol;
    r.url = config.rest_base + endpoint;
    // KC-API-TIMESTAMP is wall-clock ms; the sans-I/O session uses the caller's clock.
    r.headers = sign_headers(config.credentials, std::to_string(last_now_ns / 1'000'000 + config.clock_ms_offset),
                             "GET", endpoint, "");
  } else {
    r.url = config.rest_base + "/api/v1/market/orderbook/level2_100?symbol=" + b.symbol;
  }
  sink.http_request(r);
}

LevelResult SpotSession::Impl::apply_change(SpotBook& b, Side side, std::string_view price, std::string_view size,
                                            std::int64_t seq, std::int64_t floor_seq) {
  if (seq >= 0 && seq <= floor_seq) return LevelResult::kOk;  // already in the book
  std::int64_t p = 0, q = 0;
  if (const LevelResult r = parse_level(b, price, size, p, q); r != LevelResult::kOk) return r;
  if (p == 0) return LevelResult::kOk;  // price "0": only the sequence advances
  b.ob.apply(side, p, q);               // size 0 deletes
  ++b.ob.counters().levels_applied;
  return LevelResult::kOk;
}

void SpotSession::Impl::on_snapshot(SpotBook& b, std::string_view url, int status, std::string_view body,
                                    std::int64_t now_ns, SessionSink& sink) {
  b.fetch.request = 0;
  std::int64_t sequence = 0;
  Step step = read_snapshot(b, status, body, sequence, sink);
  if (step == Step::kDone) step = load_snapshot(b, url, sink);
  if (step == Step::kDone) {
    b.seq.reset(sequence);
    step = play_buffer(b, sink);
  }
  if (step == Step::kRetry) return retry_snapshot(b, now_ns, sink);
  if (step == Step::kAbandoned) return;
  bound_depth(b);
  b.buffer.clear();
  b.fetch.succeeded();
  set_state(b, BookState::kLive, StateReason::kSnapshotValid, sink);
  sink.book_updated(b.id, b.symbol, b.ob, true);
}

SpotSession::Impl::Step SpotSession::Impl::read_snapshot(SpotBook& b, int status, std::string_view body,
                                                         std::int64_t& sequence, SessionSink& sink) {
  if (status != 200) {
    sink.venue_error(b.symbol, "order book snapshot: HTTP error");
    return Step::kRetry;
  }
  frame.load(body);
  od::document doc;
  od::object root, data;
  std::string_view code;
  if (!validator.valid(frame) || parser.iterate(frame.data(), frame.size(), frame.capacity()).get(doc) ||
      doc.get_object().get(root) || root.find_field_unordered("code").get_string().get(code)) {
    ++malformed;
    sink.frame_error(FrameError::kNotJson, "order book snapshot is not the documented JSON");
    return Step::kRetry;
  }
  if (code != kSuccessCode) {
    sink.venue_error(b.symbol, "order book snapshot refused (code is not 200000)");
    return Step::kRetry;
  }
  raw.clear();
  od::value seq_value, bids_value, asks_value;
  if (root.find_field_unordered("data").get_object().get(data) ||
      data.find_field_unordered("sequence").get(seq_value) || !read_seq(seq_value, sequence) ||
      data.find_field_unordered("bids").get(bids_value) || !read_changes(bids_value, Side::kBid, false, raw) ||
      data.find_field_unordered("asks").get(asks_value) || !read_changes(asks_value, Side::kAsk, false, raw)) {
    ++malformed;
    sink.frame_error(FrameError::kUnexpectedShape, "order book snapshot without sequence/bids/asks");
    return Step::kRetry;
  }
  return Step::kDone;
}

SpotSession::Impl::Step SpotSession::Impl::load_snapshot(SpotBook& b, std::string_view url, SessionSink& sink) {
  // The snapshot's endpoint names its depth: a partial one that came back full on a side
  // says nothing beyond it.
  b.snapshot_limit = url.find("level2_100") != std::string_view::npos  ? 100
                     : url.find("level2_20") != std::string_view::npos ? 20
                                                                       : 0;
  switch (
      connectors::load_snapshot(b.ob, b.trusted, raw, b.buffer, static_cast<std::size_t>(b.snapshot_limit), range)) {
    case LevelResult::kOk:
      return Step::kDone;
    case LevelResult::kOutOfRange:
      // Past int64 at the book's scale: halted, not fetched again (the same number would
      // come back).
      halt_out_of_range(b, false, sink);
      return Step::kAbandoned;
    case LevelResult::kBad:
      break;
  }
  ++malformed;
  sink.frame_error(FrameError::kBadNumber, "order book snapshot price/size is not a decimal");
  return Step::kRetry;
}

SpotSession::Impl::Step SpotSession::Impl::play_buffer(SpotBook& b, SessionSink& sink) {
  // Drop what the snapshot covers, then apply in order.
  for (std::size_t used = 0; used < b.buffer.size(); ++used) {
    const DeltaBuffer::Delta& d = b.buffer.delta(used);
    const Outcome o = apply_delta(b, d.start, d.end, [&](std::int64_t floor_seq) {
      for (std::uint32_t k = d.first; k < d.first + d.count; ++k) {
        const RawChange c = b.buffer.change(k);
        const LevelResult r = apply_change(b, c.side, c.price, c.size, c.seq, floor_seq);
        if (r != LevelResult::kOk) return r;
      }
      return LevelResult::kOk;
    });
    switch (o) {
      case Outcome::kApplied:
      case Outcome::kStale:
        break;
      case Outcome::kOutOfRange:
        halt_out_of_range(b, true, sink);
        return Step::kAbandoned;
      case Outcome::kBad:
        ++malformed;
        sink.frame_error(FrameError::kBadNumber, "buffered delta price/size is not a decimal");
        gap(b, StateReason::kMalformed, sink);
        return Step::kAbandoned;
      case Outcome::kGap:
        // The snapshot is older than the buffer (or the buffer has a hole): keep the
        // deltas from here and fetch a newer snapshot.
        b.buffer.drop_front(used);
        b.ob.clear();
        b.seq.clear();
        sink.venue_error(b.symbol, "snapshot does not line up with the buffered deltas: fetching a newer one");
        return Step::kRetry;
    }
  }
  return Step::kDone;
}

void SpotSession::Impl::bound_depth(SpotBook& b) noexcept {
  connectors::bound_depth(b.ob, b.trusted, config.max_book_levels);
}

void SpotSession::Impl::retry_snapshot(SpotBook& b, std::int64_t now_ns, SessionSink& sink) {
  if (b.fetch.failed(config.max_snapshot_attempts, config.halt_backoff_ns, now_ns)) {
    set_state(b, BookState::kHalted, StateReason::kCircuitOpen, sink);
    return;
  }
  set_state(b, BookState::kResyncing, StateReason::kSnapshotRetry, sink);
  if (driving()) {
    request_snapshot(b, sink);
  } else {
    b.fetch.wanted = true;  // replay: the recording holds whatever came next
  }
}

// ---- deltas -----------------------------------------------------------------------

void SpotSession::Impl::lost_update(SpotBook* b, SessionSink& sink) {
  if (b != nullptr && b->ob.state() == BookState::kLive) gap(*b, StateReason::kMalformed, sink);
}

bool SpotSession::Impl::on_delta(od::object& data, SessionSink& sink) {
  std::string_view symbol;
  if (data.find_field_unordered("symbol").get_string().get(symbol)) return false;
  SpotBook* b = find(symbol);
  if (b == nullptr) {
    if (!config.track_any_symbol) {
      bad(sink, FrameError::kUnknownSymbol, unknown_symbol_detail(symbol));
      return true;
    }
    b = &track(symbol);
    b->fetch.wanted = true;
    set_state(*b, BookState::kAwaitingSnapshot, StateReason::kSubscribed, sink);
  }
  raw.clear();
  std::int64_t start = 0, end = 0;
  od::value start_v, end_v, asks_v, bids_v;
  od::object changes;
  bool ok = data.find_field_unordered("sequenceStart").get(start_v) == simdjson::SUCCESS && read_seq(start_v, start) &&
            data.find_field_unordered("sequenceEnd").get(end_v) == simdjson::SUCCESS && read_seq(end_v, end) &&
            start <= end && data.find_field_unordered("changes").get_object().get(changes) == simdjson::SUCCESS;
  if (ok) {
    const auto a = changes.find_field_unordered("asks").get(asks_v);
    ok = (a == simdjson::NO_SUCH_FIELD || (a == simdjson::SUCCESS && read_changes(asks_v, Side::kAsk, true, raw)));
  }
  if (ok) {
    const auto bi = changes.find_field_unordered("bids").get(bids_v);
    ok = (bi == simdjson::NO_SUCH_FIELD || (bi == simdjson::SUCCESS && read_changes(bids_v, Side::kBid, true, raw)));
  }
  if (!ok) {
    // An update we cannot read is an update lost: a live book can no longer be trusted.
    lost_update(b, sink);
    bad(sink, FrameError::kUnexpectedShape, "l2update without sequenceStart/sequenceEnd/changes");
    return true;
  }
  if (b->refused || b->out_of_range) return true;  // halted until the venue or a new connection says otherwise
  if (b->breaker.retry_pending) return true;       // halted by the breaker until its retry
  if (b->ob.state() != BookState::kLive) {
    buffer(*b, start, end, sink);  // calibrating: wait for the snapshot
    return true;
  }
  const std::uint64_t top_before = b->ob.top_version();
  const Outcome o = apply_delta(*b, start, end, [&](std::int64_t floor_seq) {
    for (const RawChange& c : raw) {
      const LevelResult r = apply_change(*b, c.side, c.price, c.size, c.seq, floor_seq);
      if (r != LevelResult::kOk) return r;
    }
    return LevelResult::kOk;
  });
  switch (o) {
    case Outcome::kApplied:
      b->breaker.passed();
      bound_depth(*b);
      sink.book_updated(b->id, b->symbol, b->ob, b->ob.top_version() != top_before);
      break;
    case Outcome::kStale:
      break;  // a duplicate: already in the book
    case Outcome::kGap:
      gap(*b, StateReason::kSequenceGap, sink);
      if (b->ob.state() != BookState::kHalted) buffer(*b, start, end, sink);  // the new calibration's first
      break;
    case Outcome::kBad:  // possibly applied in part: lost
      lost_update(b, sink);
      bad(sink, FrameError::kBadNumber, "l2update price/size is not a decimal");
      break;
    case Outcome::kOutOfRange:
      halt_out_of_range(*b, true, sink);
      break;
  }
  return true;
}

}  // namespace obr::connectors::kucoin
